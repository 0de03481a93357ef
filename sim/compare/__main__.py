"""`python -m sim.compare`: see sim.compare. Every error is one line (see sim.errors)."""

from sim.compare.command import main
from sim.errors import run_command

if __name__ == "__main__":
    run_command(main)  # which also makes SIGTERM raise sim.errors.Terminated: clean-up runs
