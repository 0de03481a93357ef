"""Regenerate the parameter tables of docs/ODD.md from the parameters' declarations.

    python -m sim.docs          # rewrite the tables in docs/ODD.md
    python -m sim.docs --check  # exit 1 if docs/ODD.md is out of date (the tests run this)

Each parameter is declared once, beside the mechanism that reads it (`sim.parameters`);
its default, meaning, source and allowed range become a row here, so the model
description cannot drift from the code. A scenario's values are data about a place: its
table has a column per scenario option, read from the composed configs.
"""

from __future__ import annotations

import argparse
import inspect
import sys
from pathlib import Path

from sim import CONFIG_DIR
from sim.config import configure
from sim.errors import UserError, run_command
from sim.files import write_text
from sim.parameters import REQUIRED, Declaration, declarations, format_value
from sim.policies.base import PolicyParameters
from sim.population.gias import GiasPopulation
from sim.population.synthetic import SyntheticPopulation
from sim.scenario import ScenarioParameters
from sim.schema import (
    LEVERS,
    ModelParameters,
    OutputOptions,
    ParameterUncertainty,
    RunConfig,
    SensitivityRow,
)

ODD = CONFIG_DIR.parent / "docs" / "ODD.md"
START, END = "<!-- parameter tables: start -->", "<!-- parameter tables: end -->"


def _where(schema: type) -> str:
    return str(Path(inspect.getfile(schema)).resolve().relative_to(CONFIG_DIR.parent))


def _allowed(declaration: Declaration) -> str:
    text = declaration.rule.describe()
    return f"{text}; {declaration.why}" if declaration.why else text


def _cell(text: str) -> str:
    return text.replace("|", "/")


def _table(title: str, schema: type, prefix: str, skip: tuple[str, ...] = ()) -> list[str]:
    lines = [f"#### {title} (`{schema.__name__}`, `{_where(schema)}`)", "",
             "| parameter | default | allowed | meaning | source |", "|---|---|---|---|---|"]
    for declaration in declarations(schema, prefix):
        if declaration.key in skip:
            continue
        default = "(each option's own)" if declaration.default is REQUIRED \
            else f"`{format_value(declaration.default)}`"
        lines.append(f"| `{declaration.key}` | {default} | {_cell(_allowed(declaration))} | "
                     f"{_cell(declaration.meaning)} | {_cell(declaration.source)} |")
    return [*lines, ""]


def _scenario_table() -> list[str]:
    options = sorted(path.stem for path in (CONFIG_DIR / "scenario").glob("*.yaml"))
    values = {option: configure([f"scenario={option}"]).scenario for option in options}
    lines = [f"#### Scenario (`ScenarioParameters`, `{_where(ScenarioParameters)}`; values in "
             f"`configs/scenario/`, each with its source)", "",
             "| parameter | allowed | meaning | " + " | ".join(options) + " |",
             "|---|---|---|" + "---|" * len(options)]
    for declaration in declarations(ScenarioParameters, "scenario."):
        field = declaration.key.split(".", 1)[1]
        shown = " | ".join(f"`{format_value(getattr(values[o], field))}`" for o in options)
        lines.append(f"| `{declaration.key}` | {_cell(_allowed(declaration))} | "
                     f"{_cell(declaration.meaning)} | {shown} |")
    return [*lines, ""]


def tables() -> str:
    parts = _table("Run", RunConfig, "")
    parts += _table("Output", OutputOptions, "output.")
    parts += _table("Sensitivity row", SensitivityRow, "sensitivity.")
    parts += _table("Parameter uncertainty (with +uncertainty=plausible)", ParameterUncertainty,
                    "uncertainty.")
    parts += _scenario_table()
    parts += _table("Population: synthetic", SyntheticPopulation, "population.")
    synthetic = {d.key for d in declarations(SyntheticPopulation, "population.")} - {
        "population.name"}
    parts += _table("Population: gias (and every synthetic parameter above)", GiasPopulation,
                    "population.", skip=tuple(synthetic))
    parts += _table("Policy", PolicyParameters, "policy.")
    for name, lever in LEVERS.items():
        parts += _table(f"Policy lever: {name}", lever, f"policy.{name}.")
    for field in ModelParameters.__dataclass_fields__.values():
        schema = field.default_factory  # type: ignore[misc]
        parts += _table(f"Model: {field.name}", schema, f"model.{field.name}.")  # type: ignore[arg-type]
    return "\n".join(parts).rstrip() + "\n"


def rendered(document: str) -> str:
    if START not in document or END not in document:
        raise UserError(f"{ODD} has lost its markers {START} and {END}: put them back around "
                        f"section 10's tables")
    before, rest = document.split(START, 1)
    _, after = rest.split(END, 1)
    return f"{before}{START}\n{tables()}{END}{after}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.docs", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only check that ODD.md is current")
    args = parser.parse_args(argv)
    document = ODD.read_text(encoding="utf-8")
    wanted = rendered(document)
    if args.check:
        if wanted != document:
            print("docs/ODD.md is out of date: run `python -m sim.docs`", file=sys.stderr)
            return 1
        return 0
    write_text(ODD, wanted)
    print(f"updated {ODD}")
    return 0


if __name__ == "__main__":
    run_command(main)
