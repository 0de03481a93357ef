"""`python -m sim.sensitivity`: see sim.sensitivity."""

from sim.errors import run_command
from sim.sensitivity.command import main

if __name__ == "__main__":
    run_command(main)
