"""`python -m sim`: run the simulator through Hydra (see sim.cli).

Ctrl-C or SIGTERM while the command starts (importing Hydra and numpy takes a second) ends
it with one line too, as it does later: the handlers are set before anything heavy loads.
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
        from sim.cli import command
    except (KeyboardInterrupt, errors.Terminated) as stopped:
        errors.report(stopped)
    command()
