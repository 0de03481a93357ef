"""`python -m sim.report PATH`: a run or a comparison as one page for a meeting.

Reads the folder (`sim.report.sources`), works out what to say (`findings`, `drivers`),
draws the map (`graphics`), renders `page.html.j2` with Jinja2 into one self-contained
HTML file (pictures embedded) and prints it to PDF with Chromium (`pdf`).

Whose files it touches: by default `report.html` and `report.pdf` in the folder given (a
run's or a comparison's own folder). A report is replaced only by a report: an existing
HTML file at the output path that `sim.report` did not write (its generator tag) is refused
in one line, and so is a PDF beside it when the HTML is not a report; `--output` must be in
an existing folder. Both files are written atomically.
"""

from __future__ import annotations

import argparse
import sys
from importlib import resources
from pathlib import Path
from typing import NoReturn

import sim.errors
from sim.errors import PREFIX, UserError, one_line
from sim.files import NAME_MAX, encoded_length, write_text
from sim.labels import policy_colour, policy_name
from sim.report import drivers, findings, graphics, pdf
from sim.report.sources import Comparison, Run, read

DESCRIPTION = "A run or a comparison as one page (HTML and PDF) to take to a meeting."
GENERATOR_TAG = '<meta name="generator" content="sim.report">'


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UserError(f"{message} (see python -m sim.report --help)")


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = Parser(prog="python -m sim.report", description=DESCRIPTION)
    parser.add_argument("path", help="a run folder, or a folder python -m sim.compare wrote")
    parser.add_argument("--output", help="the page's HTML file (default: report.html in the "
                                         "folder given); the PDF is written beside it")
    parser.add_argument("--no-pdf", action="store_true", help="write the HTML page only")
    return parser.parse_args(argv)


def say(kind: str, message: str) -> None:
    print(f"{PREFIX}: {kind}: {one_line(message)}", file=sys.stderr)


def is_report(path: Path) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return GENERATOR_TAG in handle.read(4096)
    except OSError:
        return False


def check_output(html: Path, write_pdf: bool) -> Path:
    if not html.parent.is_dir():
        raise UserError(f"the folder of --output {html} does not exist: give a file in an "
                        f"existing folder")
    if html.suffix.lower() not in (".html", ".htm"):
        raise UserError(f"--output {html} must end in .html")
    length = encoded_length(html.name)
    if length > NAME_MAX:
        raise UserError(f"--output: the name '{html.name[:40]}...' is {length} bytes long, "
                        f"more than a file's name may be ({NAME_MAX} bytes): choose a shorter "
                        f"name")
    pdf_path = html.with_suffix(".pdf")
    if html.exists() and not is_report(html):
        raise UserError(f"{html} exists and is not a page sim.report wrote: give another "
                        f"--output (nothing was written)")
    if html.is_dir():
        raise UserError(f"--output {html} is a folder: give the page's file name, ending .html")
    if write_pdf and pdf_path.exists() and not (html.exists() and is_report(html)
                                                and pdf.printed_here(pdf_path)):
        raise UserError(f"{pdf_path} exists and is not beside a page sim.report wrote: give "
                        f"another --output (nothing was written)")
    return pdf_path


def context(source: Run | Comparison) -> dict[str, object]:
    """Everything the template shows."""
    if isinstance(source, Comparison):
        run = source.map_run
        group = str(source.manifest.get("group", "policy"))
        baseline = str(source.manifest.get("baseline"))
        options = (sorted(str(value) for value in source.differences[group].unique())
                   if group in source.differences else [])
        if not options:
            raise UserError(f"the comparison in {source.folder} has nothing to compare: only "
                            f"its baseline ({baseline}) was run; run other options too and "
                            f"compare them again")
        years = run.summary.get("horizon_years") if run else "?"
        place = run.place if run else "the compared runs"
        by_option = findings.comparison_headlines(source)
        headers = list(dict.fromkeys(line.measure for lines in by_option.values()
                                     for line in lines))
        matrix = {"headers": headers, "rows": [
            {"name": findings.option_name(option, group),
             "colour": policy_colour(option, options),
             "cells": [next(((line.value, line.detail) for line in lines
                             if line.measure == header), ("", "")) for header in headers]}
            for option, lines in by_option.items()]}
        headlines = []
        against = findings.baseline_phrase(baseline, group)
        count, plural = len(options), "s" if len(options) != 1 else ""
        if group in ("policy", "scenario"):
            title = f"{place}: {count} option{plural} against {against}"
        else:  # a setting's values against its baseline value
            setting = against.split(" = ")[0]
            title = f"{place}: {count} other value{plural} of {setting} against {baseline}"
        subtitle = (f"{source.manifest.get('runs_compared')} runs, {_years(years)} each, "
                    f"paired by {findings.paired_by(source)} (common random numbers)")
        message = findings.key_message(source)
        lines = drivers.comparison_drivers(source)
        figures = graphics.embedded_figures(source.folder, graphics.COMPARISON_FIGURES, 3)
        notes = source.notes
        baseline_name = against
    else:
        run, baseline_name = source, ""
        policy = str(source.summary.get("policy", ""))
        title = f"{source.place}: {policy_name(policy)}"
        subtitle = (f"{source.summary.get('n_schools')} schools, "
                    f"{_years(source.summary.get('horizon_years'))}, seed "
                    f"{source.summary.get('seed')}")
        headlines, matrix = findings.run_headlines(source), None
        message = findings.run_message(source)
        lines = drivers.run_drivers(source)
        figures = graphics.embedded_figures(source.folder, graphics.RUN_FIGURES, 1)
        notes = []
    map_uri = graphics.place_map(run.panel if run else None)
    sets = isinstance(source, Comparison) and "parameter_sets" in source.manifest
    return {"title": title, "subtitle": subtitle, "message": message, "headlines": headlines,
            "matrix": matrix, "sets": sets,
            "baseline": baseline_name, "map": map_uri,
            "map_caption": "Schools at the end of the run, coloured by their latest grade; "
                           "grey lines join each school to its trust's centre.",
            "drivers": lines, "caveats": drivers.caveats(source, run), "notes": notes,
            "provenance": drivers.provenance(source, run), "figures": figures}


def _years(years: object) -> str:
    return "1 year" if years == 1 else f"{years} years"


def render(values: dict[str, object]) -> str:
    import jinja2

    template = resources.files("sim.report").joinpath("page.html.j2").read_text("utf-8")
    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined,
                                     trim_blocks=True, lstrip_blocks=True)
    return environment.from_string(template).render(**values)


def main(argv: list[str] | None = None) -> int:
    sim.errors.interruption_note = "the report may be unfinished; run the command again"
    args = parse(argv)
    folder = Path(args.path)
    source = read(folder)
    html = Path(args.output) if args.output else folder / "report.html"
    browser = None if args.no_pdf else pdf.chromium()
    pdf_path = check_output(html, write_pdf=browser is not None)
    page = render(context(source))
    write_text(html, page)
    print(f"{PREFIX}: page written: {html}")
    if args.no_pdf:
        return 0
    if browser is None:
        say("note", "no Chromium found, so no PDF was printed (install chromium, or set "
                    "SIM_CHROMIUM to its path); the HTML page prints from any browser")
        return 0
    pdf.print_to_pdf(html, pdf_path, browser)
    print(f"{PREFIX}: PDF written: {pdf_path}")
    return 0
