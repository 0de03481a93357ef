"""A command starts fast (issue 14: a fast first run).

It loads what it uses: `python -m sim --help`, `--cfg job` and a refused config answer
without the libraries only a run needs.

Each case runs the command in a fresh interpreter, as `python -m sim` would, and writes
down, as the interpreter exits, every module it loaded. Reading the config loads the
modules that declare it (the phases, policies, population builders and mechanics), so an
import of pandas, scipy, pyarrow, matplotlib, numba, networkx or Mesa at the top of any of
them, or of the model by the runner, fails here with the library's name. And what loads
does not cost more than it must: Mesa without its logger's walk of the stack
(`sim.framework`), libraries without the garbage collector's walks (`sim.loading`).
"""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest

from sim.loading import loading_libraries
from tests.conftest import environment

# Loaded by a run (the model, its results, the figure), never to answer before one.
ONLY_FOR_A_RUN = ("matplotlib", "pandas", "pyarrow", "scipy", "numba", "networkx", "mesa",
                  "sim.model")

# `python -m sim ARGUMENTS`, with the names of the loaded modules written to a file at exit.
RECORDING = """
import atexit, runpy, sys
record, *arguments = sys.argv[1:]
atexit.register(lambda: open(record, "w").write("\\n".join(sorted(sys.modules))))
sys.argv = ["sim", *arguments]
runpy.run_module("sim", run_name="__main__", alter_sys=True)
"""


def loaded_by(tmp_path, *arguments: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    record = tmp_path / "modules.txt"
    finished = subprocess.run([sys.executable, "-c", RECORDING, str(record), *arguments],
                              cwd=tmp_path, env=environment(), capture_output=True, text=True,
                              timeout=300)
    return finished, set(record.read_text().split())


def heavy(modules: set[str]) -> list[str]:
    return sorted(name for name in modules
                  if any(name == top or name.startswith(top + ".") for top in ONLY_FOR_A_RUN))


@pytest.mark.parametrize(("arguments", "status"), [
    (("--help",), 0),
    (("--cfg", "job"), 0),
    (("model.trusts.giver_taker_treshold=4",), 2),  # refused by Hydra, with a suggestion
    (("seed=-1",), 2),  # refused by the runner's check of the values, before the model
])
def test_answers_before_a_run_load_none_of_what_a_run_needs(tmp_path, arguments, status):
    finished, modules = loaded_by(tmp_path, *arguments)
    assert finished.returncode == status, finished.stderr
    assert "sim.config" in modules and "hydra" in modules  # the record is of the command
    assert heavy(modules) == [], f"python -m sim {' '.join(arguments)} loaded them"


def test_the_record_sees_what_a_run_loads(tmp_path):
    """The same record for a run lists the model and its libraries: an empty list above is
    not a record that sees nothing."""
    finished, modules = loaded_by(tmp_path, "horizon_years=1", "hydra.run.dir=run")
    assert finished.returncode == 0, finished.stderr
    assert {"sim.model", "mesa", "pandas", "pyarrow", "matplotlib"} <= modules


MESA_LOADING = """
import inspect
read = []
getframeinfo, stack, getmodule = inspect.getframeinfo, inspect.stack, inspect.getmodule
inspect.getframeinfo = lambda *arguments, **options: read.append(1) or getframeinfo(
    *arguments, **options)
import sim.framework
import mesa.model
logged = inspect.getclosurevars(mesa.model.Model.__init__).nonlocals["classname"]
restored = inspect.stack is stack and inspect.getmodule is getmodule
print(len(read), mesa.model._mesa_logger.name, logged, restored)
"""


def test_mesa_loads_without_reading_the_source_of_every_frame_on_the_stack(tmp_path):
    """sim.framework loads Mesa with its logger named as Mesa names it, without the source
    of the frames Mesa's logger walks, and leaves inspect as it was."""
    finished = subprocess.run([sys.executable, "-c", MESA_LOADING], cwd=tmp_path,
                              env=environment(), capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.split() == ["0", "MESA.mesa.model", "Model", "True"]


def test_libraries_load_with_the_collector_held_off_then_frozen():
    frozen = gc.get_freeze_count()
    try:
        with loading_libraries():
            assert not gc.isenabled()
            import sim.loading  # noqa: F401  (already loaded: nothing new)
        assert gc.isenabled() and gc.get_freeze_count() == frozen
        with loading_libraries():
            sys.modules["sim_test_module_loaded"] = type(sys)("sim_test_module_loaded")
        assert gc.isenabled() and gc.get_freeze_count() > frozen
        gc.disable()
        with loading_libraries():
            pass
        assert not gc.isenabled()  # off before, off after
    finally:
        sys.modules.pop("sim_test_module_loaded", None)
        gc.unfreeze()
        gc.enable()
