"""`python -m sim.compare`: see sim.compare. Every error is one line (see sim.errors).

Ctrl-C or SIGTERM while the command starts ends it with one line too: the handlers are set
before anything heavy loads (as in `sim.__main__`).
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
        from sim.compare.command import main
    except (KeyboardInterrupt, errors.Terminated) as stopped:
        errors.report(stopped)
    errors.run_command(main)  # which also makes SIGTERM raise Terminated: clean-up runs
