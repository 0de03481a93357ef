"""Hydra plugin of the sim project: puts the repository's experiments/ on the config path."""
