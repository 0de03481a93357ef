"""The phases of a term, one module each (`run_term(model)`), and the yearly phase
(`structure.run_year(model)`). Their order is declared once, in `sim.model.TERM_PHASES`."""
