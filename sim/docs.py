"""Regenerate the parameter tables of docs/ODD.md from the comments in configs/.

    python -m sim.docs          # rewrite the tables in docs/ODD.md
    python -m sim.docs --check  # exit 1 if docs/ODD.md is out of date (the tests run this)

Each `key: value  # meaning (source)` line of a config file becomes a table row, so the
defaults, their meanings and their sources are written once, in the YAML, and the model
description cannot drift from them.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from sim.config import CONFIG_DIR

ODD = CONFIG_DIR.parent / "docs" / "ODD.md"
START, END = "<!-- parameter tables: start -->", "<!-- parameter tables: end -->"
GROUP_ORDER = ("scenario", "population", "policy", "model")


def config_files() -> list[tuple[str, str]]:
    """(title, path relative to configs/) of the main config and every group option."""
    files = [("Main config", "config.yaml")]
    for group in GROUP_ORDER:
        for path in sorted((CONFIG_DIR / group).glob("*.yaml")):
            files.append((f"{group.title()}: {path.stem}", f"{group}/{path.name}"))
    return files
LINE = re.compile(r"^(?P<indent>\s*)(?P<key>[a-z_0-9]+):\s*(?P<value>[^#]*?)\s*(#\s*(?P<doc>.*))?$")


def rows(path: Path) -> list[tuple[str, str, str]]:
    """(dotted key, default, documentation) for every documented leaf of a YAML file."""
    found: list[tuple[str, str, str]] = []
    parents: list[tuple[int, str]] = []
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith(("#", "-")):
            continue
        match = LINE.match(line)
        if not match:
            continue
        indent = len(match["indent"])
        parents = [(i, k) for i, k in parents if i < indent]
        key, value = match["key"], match["value"]
        if not value:
            parents.append((indent, key))
            continue
        if parents and parents[0][1] in {"hydra", "defaults"}:
            continue
        if match["doc"]:
            dotted = ".".join([k for _, k in parents] + [key])
            found.append((dotted, value, match["doc"]))
    return found


def tables() -> str:
    parts = []
    for title, name in config_files():
        parts.append(f"#### {title} (`configs/{name}`)\n")
        parts.append("| parameter | default | meaning and source |\n|---|---|---|")
        prefix = f"{name.split('/')[0]}." if "/" in name else ""
        for key, value, doc in rows(CONFIG_DIR / name):
            parts.append(f"| `{prefix}{key}` | `{value}` | {doc.replace('|', '/')} |")
        parts.append("")
    return "\n".join(parts).rstrip() + "\n"


def rendered(document: str) -> str:
    before, rest = document.split(START, 1)
    _, after = rest.split(END, 1)
    return f"{before}{START}\n{tables()}{END}{after}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.docs", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only check that ODD.md is current")
    args = parser.parse_args(argv)
    document = ODD.read_text()
    wanted = rendered(document)
    if args.check:
        if wanted != document:
            print("docs/ODD.md is out of date: run `python -m sim.docs`", file=sys.stderr)
            return 1
        return 0
    ODD.write_text(wanted)
    print(f"updated {ODD}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
