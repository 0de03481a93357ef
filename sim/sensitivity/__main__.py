"""`python -m sim.sensitivity`: see sim.sensitivity.

Ctrl-C or SIGTERM while the command starts (importing Hydra, numpy and the model takes a
second) ends it with one line too, as it does later: the handlers are set before anything
heavy loads (as in `sim.__main__`).
"""

import sys

try:
    from sim import errors
except KeyboardInterrupt:  # Ctrl-C in the first milliseconds: the line sim.errors would print
    print("sim: interrupted; nothing was written", file=sys.stderr)
    sys.exit(130)

if __name__ == "__main__":
    errors.install_signal_handlers()
    try:
        from sim.sensitivity.command import main
    except (KeyboardInterrupt, errors.Terminated) as stopped:
        errors.report(stopped)
    errors.run_command(main)
