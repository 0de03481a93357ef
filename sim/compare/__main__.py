"""`python -m sim.compare`: see sim.compare. Every error is one line (see sim.errors)."""

from sim.compare.command import main
from sim.errors import install_signal_handlers, run_command

if __name__ == "__main__":
    install_signal_handlers()  # SIGTERM raises sim.errors.Terminated: the clean-up runs
    run_command(main)
