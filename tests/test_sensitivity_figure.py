"""sim.sensitivity's figure: mu* with its sign and sigma, parameters named in words, and
no text cut off by the figure's edge."""

from __future__ import annotations

import pandas as pd
import pytest
from matplotlib.colors import to_hex

from sim.sensitivity.figure import (
    BOTH,
    LOWERS,
    NAME_WIDTH,
    RAISES,
    SIGN_COLOURS,
    draw,
    parameter_names,
    sign_of,
)

PARAMETERS = ["model.improvement.support_effect", "model.trusts.giver_taker_threshold",
              "scenario.teacher_supply"]
OUTCOMES = ["good_or_better_change", "orphan_terms", "teacher_leaving_rate_mean"]


def morris_table() -> pd.DataFrame:
    """support_effect raises every outcome, the threshold lowers it, supply goes both ways."""
    rows = []
    for outcome in OUTCOMES:
        for parameter, mu_star, mu in zip(PARAMETERS, (0.05, 0.02, 0.01), (0.05, -0.02, 0.001),
                                          strict=True):
            rows.append({"outcome": outcome, "parameter": parameter, "importance": mu_star,
                         "mu_star": mu_star, "mu_star_conf": mu_star / 4, "mu": mu,
                         "sigma": mu_star / 2})
    return pd.DataFrame(rows)


@pytest.mark.parametrize(("mu", "mu_star", "expected"), [
    (0.9, 1.0, RAISES), (-0.9, 1.0, LOWERS), (0.2, 1.0, BOTH), (-0.2, 1.0, BOTH), (0.0, 0.0, BOTH)])
def test_the_sign_comes_from_mu_against_mu_star(mu, mu_star, expected):
    assert sign_of(mu, mu_star) == expected


def test_parameters_are_named_in_words_from_their_declarations():
    names = parameter_names(PARAMETERS)
    assert names["model.trusts.giver_taker_threshold"].startswith("Minimum giver:taker ratio")
    assert "exp(" not in names["model.improvement.support_effect"]  # the formula is left out
    for key, name in names.items():
        assert key not in name and "_" not in name
        assert all(len(line) <= NAME_WIDTH for line in name.split("\n"))


def test_bars_are_coloured_by_sign():
    figure = draw(morris_table(), sobol=False)
    axis = figure.axes[0]
    colours = [to_hex(bar.get_facecolor()) for bar in axis.patches]
    # Bars in the table's order: support effect, threshold, supply.
    assert colours == [SIGN_COLOURS[RAISES].lower(), SIGN_COLOURS[LOWERS].lower(),
                       SIGN_COLOURS[BOTH].lower()]
    assert len(axis.lines) >= 1  # sigma's diamonds


@pytest.mark.parametrize("sobol", [False, True])
def test_no_text_is_cut_off_by_the_figure_edge(sobol):
    table = morris_table()
    if sobol:
        table = table.assign(total_order=table["mu_star"], total_order_conf=0.01,
                             first_order=table["mu_star"] / 2)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    figure = draw(table, sobol=sobol)
    renderer = FigureCanvasAgg(figure).get_renderer()
    figure.draw(renderer)  # the constrained layout is done at drawing
    # Everything drawn (ticks outside the axes' limits are not), in inches.
    drawn, bounds = figure.get_tightbbox(renderer), figure.bbox_inches
    assert drawn.x0 >= bounds.x0 - 0.01 and drawn.x1 <= bounds.x1 + 0.01, (drawn, bounds)
    assert drawn.y0 >= bounds.y0 - 0.01 and drawn.y1 <= bounds.y1 + 0.01, (drawn, bounds)
