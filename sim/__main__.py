"""`python -m sim`: run the simulator through Hydra (see sim.cli)."""

from sim.cli import main

if __name__ == "__main__":
    main()
