"""`python -m sim.sensitivity`: see sim.sensitivity.

Ctrl-C or SIGTERM while the command starts (importing Hydra, numpy and the model takes a
second) ends it with one line too, as it does later: the handlers are set before anything
heavy loads (as in `sim.__main__`).
"""

from sim import errors

if __name__ == "__main__":
    errors.install_signal_handlers()
    try:
        from sim.sensitivity.command import main
    except (KeyboardInterrupt, errors.Terminated) as stopped:
        errors.report(stopped)
    errors.run_command(main)
