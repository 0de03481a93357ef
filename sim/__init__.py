"""sim: an agent-based simulator of England's school-led improvement system.

Schools and multi-academy trusts are agents on a partnership graph. Capacity giver:taker
ratios, trusts' due diligence, peer support and staff turnover drive each school's
effectiveness term by term; Ofsted inspection measures it with noise.

Run it with `python -m sim` (see README.md); the model is `sim.model.SchoolSystemModel`.
"""

__version__ = "0.1.0"
