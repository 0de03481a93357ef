"""Hydra plugin of the sim project: the local launcher of `python -m sim -m` (see sim_launcher)."""
