"""sim: an agent-based simulator of England's school-led improvement system.

Schools and multi-academy trusts are agents on a partnership graph. Capacity giver:taker
ratios, trusts' due diligence, peer support and staff turnover drive each school's
effectiveness term by term; Ofsted inspection measures it with noise.

Run it with `python -m sim` (see README.md); the model is `sim.model.SchoolSystemModel`.
"""

__version__ = "0.1.0"

import os as _os
import signal as _signal
import sys as _sys


def _interrupted_while_starting(signal_number: int, frame: object) -> None:
    """Ctrl-C before the command has set its own handlers (`sim.errors`): nothing has been
    written yet, so say so and stop, rather than print a traceback from the import."""
    _os.write(2, b"sim: interrupted; nothing was written\n")
    _os._exit(130)


# `python -m sim` (or `-m sim.compare`, ...) imports this package first, with sys.argv[0]
# "-m" until the command's module runs: a Ctrl-C while the libraries load then gets the
# command's one line. Imported as a library (a notebook), the package leaves signals alone;
# a Ctrl-C the shell told the command to ignore stays ignored.
if _sys.argv[:1] == ["-m"] and _signal.getsignal(_signal.SIGINT) is _signal.default_int_handler:
    _signal.signal(_signal.SIGINT, _interrupted_while_starting)

from pathlib import Path as _Path  # noqa: E402 (after the handler: Ctrl-C from the start)

# One thread per process for numpy's BLAS: the model's arrays are too small to gain from
# threads, and idle BLAS threads spin, taking a core that a parallel sweep's other worker
# needs. Set before numpy is first imported; a user's own setting wins.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    _os.environ.setdefault(_variable, "1")


def _keep_freed_memory_for_reuse() -> None:
    """Let malloc keep freed memory for the next array rather than hand it back at once.

    A term makes and frees arrays of England's schools and (stage, school) cells, from a
    fifth of a megabyte to a megabyte, hundreds of times. glibc's malloc gives the top of
    its heap back to the system when more than twice its mmap threshold is free there,
    and the next such array faults its pages in again: some 800 page faults a term, about
    a tenth of a national run's time. With these thresholds up to 128 MiB stay free for
    reuse, and arrays below 32 MiB (glibc's own largest automatic threshold) come from the
    heap. Only under glibc; a user's own MALLOC_TRIM_THRESHOLD_ or MALLOC_MMAP_THRESHOLD_
    wins."""
    if any(name in _os.environ for name in ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_",
                                            "MALLOC_TOP_PAD_")):
        return
    import ctypes  # only here: nothing else of sim needs it

    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # noqa: B018 (glibc only: musl, macOS and Windows differ)
    except (OSError, AttributeError):
        return
    trim_threshold, mmap_threshold = -1, -3  # mallopt's parameter numbers (malloc.h)
    libc.mallopt(trim_threshold, 128 * 2**20)
    libc.mallopt(mmap_threshold, 32 * 2**20)


_keep_freed_memory_for_reuse()

# Hydra's config groups (scenario, policy, experiment) and the project's data files.
CONFIG_DIR = _Path(__file__).resolve().parent.parent / "configs"
