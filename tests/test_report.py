"""`python -m sim.report`: a run and a comparison (and a GIAS place) as one page, rendered
in a real headless browser (the system's Chromium) and checked for what a director reads
on it; a PDF printed; a user's file never replaced; bad input one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser import browser, chromium_path  # noqa: F401 (the fixture)
from tests.conftest import GIAS_FIXTURE, environment, run_cli


def report(*arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sim.report", *arguments], cwd=cwd,
                          text=True, capture_output=True, env=environment(), timeout=300)


def only_run(root: Path) -> Path:
    found = [path.parent for path in root.rglob("summary.json")]
    assert len(found) == 1, found
    return found[0]


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Path:
    cwd = tmp_path_factory.mktemp("run")
    finished = run_cli("scenario=opportunity_area", "horizon_years=2", "seed=5",
                       "output.progress=false", cwd=cwd)
    assert finished.returncode == 0, finished.stderr
    return only_run(cwd / "results")


@pytest.fixture(scope="module")
def comparison_folder(tmp_path_factory) -> Path:
    cwd = tmp_path_factory.mktemp("comparison")
    finished = run_cli("-m", "policy=status_quo,universal_partnership,mat_contracting",
                       "seed=0,1,2", "horizon_years=2", "output.plots=false",
                       "hydra.sweep.dir=sweep", cwd=cwd)
    assert finished.returncode == 0, finished.stderr
    compared = subprocess.run([sys.executable, "-m", "sim.compare", "sweep"], cwd=cwd,
                              text=True, capture_output=True, env=environment(), timeout=300)
    assert compared.returncode == 0, compared.stderr
    return cwd / "sweep"


def open_page(browser, html: Path):  # noqa: F811
    page = browser.new_page(viewport={"width": 1000, "height": 1300})
    page.goto(html.resolve().as_uri())
    return page


def test_a_run_becomes_a_page_a_browser_shows_with_its_place_outcomes_and_map(
        run_folder, browser):  # noqa: F811
    finished = report(str(run_folder), cwd=run_folder)
    assert finished.returncode == 0, finished.stderr
    html = run_folder / "report.html"
    page = open_page(browser, html)
    assert page.inner_text("#title") == "Opportunity Area: Status quo"  # as its figure titles it
    summary = json.loads((run_folder / "summary.json").read_text())
    start = f"{100 * summary['good_or_better_start']:.1f}%"
    assert start in page.inner_text("#key-message")
    rows = page.locator("#outcomes tr")
    assert rows.count() == 6
    outcomes = page.inner_text("#outcomes")
    for measure in ("Good or better", "Disadvantage gap", "Teachers leaving",
                    "waiting for a sponsor", "Average cost per school moved to good"):
        assert measure in outcomes
    # The map and the run's figure are drawn (decoded images, not broken links).
    widths = page.eval_on_selector_all("img", "images => images.map(i => i.naturalWidth)")
    assert len(widths) == 2 and min(widths) > 100
    assert page.locator("#drivers li").count() >= 2
    assert "synthetic" in page.inner_text("#caveats")
    assert str(summary["seed"]) in page.inner_text("#provenance")
    if chromium_path():
        assert (run_folder / "report.pdf").read_bytes()[:5] == b"%PDF-"


def test_a_comparison_page_gives_each_option_its_difference_interval_and_cost(
        comparison_folder, browser):  # noqa: F811
    finished = report(str(comparison_folder), "--no-pdf", cwd=comparison_folder.parent)
    assert finished.returncode == 0, finished.stderr
    assert not (comparison_folder / "report.pdf").exists()
    page = open_page(browser, comparison_folder / "report.html")
    assert page.inner_text("#title").endswith("2 options against the status quo")
    assert "difference from the status quo" in page.inner_text("#outcomes h2")
    headers = page.locator("#outcomes th").all_inner_texts()
    assert headers[0] == "Option" and headers[-1] == "Cost per extra school moved to good"
    assert "Good or better" in headers and "Waiting for a sponsor" in headers
    rows = page.locator("#outcomes tr.option-row")
    assert sorted(row.locator("td.option").inner_text().strip() for row in rows.all()) == [
        "MAT contracting", "Universal partnership"]
    for row in rows.all():
        cells = row.locator("td").all_inner_texts()
        assert len(cells) == len(headers)
        assert sum("90% interval" in cell for cell in cells) >= 4
        assert "dominated" in cells[-1] or "£" in cells[-1]
    assert page.locator("#map img").count() == 1
    assert "3 seeds" in page.inner_text("#caveats") or "Intervals come from 3" in \
        page.inner_text("#caveats")


def test_a_gias_place_is_titled_by_its_place(tmp_path, browser):  # noqa: F811
    finished = run_cli("population=gias", f"population.path={GIAS_FIXTURE}",
                       "population.areas=[Blackpool]", "horizon_years=1",
                       "output.progress=false", cwd=tmp_path)
    assert finished.returncode == 0, finished.stderr
    folder = only_run(tmp_path / "results")
    assert report(str(folder), "--no-pdf", cwd=tmp_path).returncode == 0
    page = open_page(browser, folder / "report.html")
    assert page.inner_text("#title").startswith("Blackpool")
    assert "GIAS extract" in page.inner_text("#caveats")


def test_a_users_file_is_never_replaced_and_bad_paths_are_one_line(run_folder, tmp_path):
    mine = tmp_path / "notes.html"
    mine.write_text("<p>my notes</p>")
    refused = report(str(run_folder), "--output", str(mine), cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr.startswith("sim: error:") and len(refused.stderr.splitlines()) == 1
    assert mine.read_text() == "<p>my notes</p>"
    assert not mine.with_suffix(".pdf").exists()
    for path, says in ((tmp_path / "absent", "does not exist"),
                       (tmp_path, "neither a run"),
                       (run_folder.parent, "sweep that has not been compared")):
        finished = report(str(path), cwd=tmp_path)
        assert finished.returncode == 2, finished.stderr
        assert says in finished.stderr and len(finished.stderr.splitlines()) == 1
        assert "Traceback" not in finished.stderr
    # A report may replace its own page.
    again = report(str(run_folder), "--no-pdf", cwd=tmp_path)
    assert again.returncode == 0, again.stderr


def test_a_parameter_sweep_is_reported_by_the_settings_name_and_values(tmp_path, browser):  # noqa: F811
    finished = run_cli("-m", "model.trusts.giver_taker_threshold=2,3", "seed=0,1",
                       "horizon_years=1", "output.plots=false", "hydra.sweep.dir=sweep",
                       cwd=tmp_path)
    assert finished.returncode == 0, finished.stderr
    compared = subprocess.run([sys.executable, "-m", "sim.compare", "sweep", "--baseline", "3"],
                              cwd=tmp_path, text=True, capture_output=True, env=environment(),
                              timeout=300)
    assert compared.returncode == 0, compared.stderr
    assert report("sweep", "--no-pdf", cwd=tmp_path).returncode == 0
    page = open_page(browser, tmp_path / "sweep" / "report.html")
    assert page.inner_text("#title").endswith("1 other value of trusts' giver:taker threshold "
                                              "against 3")
    names = page.locator("#outcomes td.option").all_inner_texts()
    assert [name.strip() for name in names] == ["Trusts' giver:taker threshold = 2"]
    assert page.locator("#map img").count() == 1  # the baseline's run (3, read back as 3.0)
    assert "through" not in page.inner_text("#drivers")  # no policy's channel for a setting


def test_a_comparison_of_the_baseline_alone_and_damaged_tables_are_refused(tmp_path,
                                                                           comparison_folder):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(comparison_folder, copy)
    for written in ("report.html", "report.pdf"):  # another test may have reported on it
        (copy / written).unlink(missing_ok=True)
    (copy / "cost_effectiveness.csv").write_text('garbage,"\n')
    refused = report(str(copy), "--no-pdf", cwd=tmp_path)
    assert refused.returncode == 2 and "run python -m sim.compare again" in refused.stderr
    differences = copy / "differences.csv"
    differences.write_text(differences.read_text().splitlines()[0] + "\n")  # no option
    (copy / "cost_effectiveness.csv").unlink()
    refused = report(str(copy), "--no-pdf", cwd=tmp_path)
    assert refused.returncode == 2 and "nothing to compare" in refused.stderr
    assert len(refused.stderr.splitlines()) == 1 and not (copy / "report.html").exists()


def test_a_run_whose_summary_lacks_what_the_page_reads_is_refused(run_folder, tmp_path):
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(run_folder, copy)
    (copy / "summary.json").write_text("{}")
    refused = report(str(copy), "--no-pdf", cwd=tmp_path)
    assert refused.returncode == 2 and "run it again" in refused.stderr
    assert "Traceback" not in refused.stderr and len(refused.stderr.splitlines()) == 1


def test_a_run_whose_time_series_is_another_table_is_refused(run_folder, tmp_path):
    """A timeseries.parquet that is a copy of the run's events.parquet (readable, but not a
    time series) is refused in one line naming the columns it lacks, as sim.compare and
    sim.validate refuse it; nothing is written."""
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(run_folder, copy)
    for written in ("report.html", "report.pdf"):  # another test may have reported on it
        (copy / written).unlink(missing_ok=True)
    shutil.copyfile(copy / "events.parquet", copy / "timeseries.parquet")
    before = sorted(copy.iterdir())
    refused = report(str(copy), "--no-pdf", cwd=tmp_path)
    assert refused.returncode == 2, refused.stderr
    lines = refused.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("sim: error: the run in "), lines
    assert "timeseries.parquet has no column term_of_year" in lines[0]
    assert "spending_total_gbp" in lines[0] and "run it again" in lines[0]
    assert sorted(copy.iterdir()) == before


@pytest.mark.parametrize("name", ["r" * 250 + ".html", "é" * 125 + ".html"],
                         ids=["255 bytes ASCII", "255 bytes UTF-8"])
def test_a_page_of_the_longest_name_is_written_under_that_name(run_folder, tmp_path, name):
    """A page's name of 255 bytes (the most a file's name may be) is staged under a shorter
    hidden name and ends as given; one byte more is refused in one line."""
    written = report(str(run_folder), "--no-pdf", "--output", str(tmp_path / name),
                     cwd=tmp_path)
    assert written.returncode == 0, written.stderr
    assert [path.name for path in tmp_path.iterdir()] == [name]
    longer = tmp_path / f"r{name}"
    refused = report(str(run_folder), "--no-pdf", "--output", str(longer), cwd=tmp_path)
    assert refused.returncode == 2 and len(refused.stderr.splitlines()) == 1, refused.stderr
    assert "bytes long, more than a file's name may be (255 bytes)" in refused.stderr
    assert [path.name for path in tmp_path.iterdir()] == [name]


def test_a_pdf_not_printed_by_chromium_is_never_replaced(run_folder, tmp_path):
    page = tmp_path / "page.html"
    written = report(str(run_folder), "--no-pdf", "--output", str(page), cwd=tmp_path)
    assert written.returncode == 0, written.stderr  # a report's page, beside a user's PDF
    (tmp_path / "page.pdf").write_text("my own pdf")
    refused = report(str(run_folder), "--output", str(page), cwd=tmp_path)
    if chromium_path():
        assert refused.returncode == 2 and "page.pdf" in refused.stderr
    assert (tmp_path / "page.pdf").read_text() == "my own pdf"
