"""The phases of a term, one module each, in the order `SchoolSystemModel.step` runs them."""
