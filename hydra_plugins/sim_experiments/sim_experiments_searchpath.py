"""Make `experiments/` a config group, so `python -m sim -m +experiments=NAME` finds it.

Hydra discovers search-path plugins in the `hydra_plugins` namespace package. This one
adds the repository folder as a config root, in which the folder `experiments/` is the
group `experiments`.
"""

from __future__ import annotations

from pathlib import Path

from hydra.core.config_search_path import ConfigSearchPath
from hydra.plugins.search_path_plugin import SearchPathPlugin

REPOSITORY = Path(__file__).resolve().parents[2]


class SimExperimentsSearchPathPlugin(SearchPathPlugin):
    def manipulate_search_path(self, search_path: ConfigSearchPath) -> None:
        if (REPOSITORY / "experiments").is_dir():
            search_path.append(provider="sim-experiments", path=f"file://{REPOSITORY}")
