"""`python -m sim.calibrate`: the `check` of a default run (the default) or a `fit`."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Dispatch on the first argument: `fit`, `check`, or the check's own options (the
    command as it was before `fit` existed). Each loads only its own module: the check
    does not need Optuna."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments[:1] == ["fit"]:
        from sim.calibrate import fit

        return fit.main(arguments[1:])
    from sim.calibrate import check

    return check.main(arguments[1:] if arguments[:1] == ["check"] else arguments)
