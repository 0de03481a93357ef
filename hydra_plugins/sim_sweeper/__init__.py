"""Hydra plugin of the sim project: the sweeper of `python -m sim -m` (see sim_sweeper)."""
