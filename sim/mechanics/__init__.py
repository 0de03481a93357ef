"""Mechanics shared by the phases, the policies and the population builders.

These modules sit below all three, so that none of them reaches sideways into another:
grading from effectiveness (`grading`), rates per year and per term (`rates`), a new
trust's make-up and rules (`trusts`), and the commissioner's broker (`brokering`), the
seam through which the yearly phase and the MAT-contracting policy move schools between
trusts. They import only the foundation below them (`sim.state`, `sim.parameters`,
`sim.errors`, `sim.scenario`).
"""
