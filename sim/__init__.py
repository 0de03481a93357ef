"""sim: an agent-based simulator of England's school-led improvement system.

Schools and multi-academy trusts are agents on a partnership graph. Capacity giver:taker
ratios, trusts' due diligence, peer support and staff turnover drive each school's
effectiveness term by term; Ofsted inspection measures it with noise.

Run it with `python -m sim` (see README.md); the model is `sim.model.SchoolSystemModel`.
"""

__version__ = "0.1.0"

import os as _os
from pathlib import Path as _Path

# One thread per process for numpy's BLAS: the model's arrays are too small to gain from
# threads, and idle BLAS threads spin, taking a core that a parallel sweep's other worker
# needs. Set before numpy is first imported; a user's own setting wins.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    _os.environ.setdefault(_variable, "1")

# Hydra's config groups (scenario, policy, experiment) and the project's data files.
CONFIG_DIR = _Path(__file__).resolve().parent.parent / "configs"
