"""The layers of the code point down, with no import cycles, and no file grows too long.

Each module of `sim` belongs to one layer (`LAYERS`, bottom first). A module may import
modules of its own layer or of layers below, never above; type-only imports (under
`if TYPE_CHECKING:`, as Mesa's own code imports the model for annotations) are left out.
Within the middle layer the phases, the policies and the population builders do not
import one another: what they share lives in `sim.mechanics`, below them. Reporting
(`sim.compare`, `sim.plots` with `sim.plot_data`, `sim.scorecard`) reads result files and
never imports the model. Every import of a project module is at the top of its module, so
that a reader sees what a module depends on in one place; the exceptions are the commands'
`__main__` modules, which set their signal handlers before anything heavy loads, and the
runner, which loads the model only when a run starts (`LOADED_WHEN_A_RUN_STARTS`, with the
calibration command loading only the subcommand asked for), so that
`python -m sim --help` and a refused config answer without Mesa, pandas and scipy.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

from tests.conftest import REPOSITORY, environment

SOURCE = REPOSITORY / "sim"
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("foundation", ("sim", "sim.errors", "sim.standard_streams", "sim.swallowed_signals",
                    "sim.files", "sim.framework",
                    "sim.loading", "sim.parameters", "sim.state", "sim.tallies", "sim.compiled",
                    "sim.sampling", "sim.events",
                    "sim.scenario", "sim.streams", "sim.draw_ahead", "sim.labels")),
    ("mechanics", ("sim.mechanics", "sim.network", "sim.agents")),
    ("phases, policies and population builders", ("sim.phases", "sim.policies",
                                                  "sim.population")),
    ("model", ("sim.model", "sim.term_phases", "sim.metrics", "sim.record_counts", "sim.at_rest",
               "sim.mesa_space")),
    ("runner", ("sim.schema", "sim.parameter_sets", "sim.config", "sim.folders", "sim.places",
                "sim.areas", "sim.outputs",
                "sim.plots", "sim.plot_data", "sim.run", "sim.sweeps", "sim.sweep_plans",
                "sim.composer",
                "sim.launcher", "sim.mesa_batch")),
    ("commands", ("sim.__main__", "sim.cli", "sim.explain", "sim.docs", "sim.calibrate",
                  "sim.compare", "sim.sensitivity", "sim.scorecard", "sim.validate",
                  "sim.report", "sim.app")),
]
SIBLINGS = ("sim.phases", "sim.policies", "sim.population")  # none imports another
READ_FILES_ONLY = ("sim.compare", "sim.plots", "sim.plot_data", "sim.scorecard", "sim.report")
IMPORTS_LATE = {"sim.__main__", "sim.compare.__main__", "sim.sensitivity.__main__",
                "sim.validate.__main__", "sim.calibrate.__main__",
                "sim.report.__main__", "sim.app.__main__"}  # signals first
# (module, the project module it imports inside a function): the only other late imports.
LOADED_WHEN_A_RUN_STARTS = {("sim.run", "sim.model"),
                            # each subcommand of calibrate loads only its own module: the
                            # check does not need Optuna
                            ("sim.calibrate.command", "sim.calibrate.fit"),
                            ("sim.calibrate.command", "sim.calibrate.check")}
LONGEST_FILE_LINES = 420


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPOSITORY).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(path): path for path in sorted(SOURCE.rglob("*.py"))}


def owner(module: str, prefixes: tuple[str, ...]) -> str | None:
    """The longest of `prefixes` that `module` is or is inside of."""
    found = [prefix for prefix in prefixes
             if module == prefix or (prefix != "sim" and module.startswith(prefix + "."))]
    return max(found, key=len) if found else None


def layer(module: str) -> int:
    for index, (_, members) in enumerate(LAYERS):
        if owner(module, members) is not None:
            return index
    raise AssertionError(f"{module} is in no layer: add it to LAYERS in {__file__}")


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def project_imports(module: str) -> list[tuple[str, int, bool]]:
    """(imported project module, line, at the top of the module?) for each import that
    runs, leaving out type-only ones."""
    tree = ast.parse(MODULES[module].read_text())
    package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
    found: list[tuple[str, int, bool]] = []

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                continue
            if isinstance(child, ast.Import):
                found.extend((alias.name, child.lineno, top) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                for alias in child.names:  # `from sim.phases import capacity` is a module
                    candidate = f"{base}.{alias.name}"
                    found.append((candidate if candidate in MODULES else base, child.lineno, top))
            visit(child, top and not isinstance(
                child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)))

    visit(tree, True)
    return [(name, line, top) for name, line, top in found
            if name == "sim" or name.startswith("sim.")]


def import_graph() -> nx.DiGraph:
    graph = nx.DiGraph()
    graph.add_nodes_from(MODULES)
    for module in MODULES:
        for imported, line, _ in project_imports(module):
            graph.add_edge(module, imported, line=line)
    return graph


def test_every_module_is_in_a_layer():
    for module in MODULES:
        layer(module)


def test_no_module_imports_one_in_a_layer_above_it():
    upward = [f"{module} (layer {LAYERS[layer(module)][0]}) imports {imported} "
              f"(layer {LAYERS[layer(imported)][0]}) at line {line}"
              for module in MODULES for imported, line, _ in project_imports(module)
              if layer(imported) > layer(module)]
    assert not upward, "\n".join(upward)


def test_phases_policies_and_builders_share_only_what_lies_below_them():
    sideways = []
    for module in MODULES:
        own = owner(module, SIBLINGS)
        for imported, line, _ in project_imports(module):
            other = owner(imported, SIBLINGS)
            if own and other and other != own:
                sideways.append(f"{module} imports {imported} at line {line}")
    assert not sideways, "\n".join(sideways)


def test_reporting_reads_files_and_never_imports_the_model():
    model_layers = {index for index, (name, _) in enumerate(LAYERS)
                    if name in ("mechanics", "phases, policies and population builders", "model")}
    reaching = [f"{module} imports {imported}"
                for module in MODULES if owner(module, READ_FILES_ONLY)
                for imported, _, _ in project_imports(module) if layer(imported) in model_layers]
    assert not reaching, "\n".join(reaching)


def test_there_are_no_import_cycles():
    cycles = list(nx.simple_cycles(import_graph()))
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c + c[:1]) for c in cycles)


def test_project_imports_are_at_the_top_of_their_module():
    late = [f"{module} line {line}: import of {imported} inside a function"
            for module in MODULES if module not in IMPORTS_LATE
            for imported, line, top in project_imports(module)
            if not top and (module, imported) not in LOADED_WHEN_A_RUN_STARTS]
    assert not late, "\n".join(late)


def test_no_file_in_sim_is_much_over_400_lines():
    long = {module: n for module, path in MODULES.items()
            if (n := len(path.read_text().splitlines())) > LONGEST_FILE_LINES}
    assert not long, long


@pytest.mark.parametrize("module", ["sim.model", "sim.config", "sim.cli", "sim.compare",
                                    "sim.sensitivity"])
def test_each_entry_module_imports_on_its_own(module):
    """A fresh interpreter imports it alone: no cycle that only an import order hides."""
    finished = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=REPOSITORY,
                              env=environment(), capture_output=True, text=True, timeout=120)
    assert finished.returncode == 0, finished.stderr


def test_the_checks_see_an_import_that_points_up(tmp_path, monkeypatch):
    """The walker finds imports of every form, so the layer checks cannot pass vacuously."""
    fake = tmp_path / "sim" / "mechanics" / "upward.py"
    fake.parent.mkdir(parents=True)
    fake.write_text("from typing import TYPE_CHECKING\n"
                    "from sim.phases import capacity\n"
                    "if TYPE_CHECKING:\n    from sim.model import SchoolSystemModel\n"
                    "def f():\n    import sim.run\n")
    monkeypatch.setitem(MODULES, "sim.mechanics.upward", fake)
    monkeypatch.setattr(sys.modules[__name__], "REPOSITORY", tmp_path)
    found = project_imports("sim.mechanics.upward")
    assert ("sim.phases.capacity", 2, True) in found
    assert ("sim.run", 6, False) in found
    assert all(name != "sim.model" for name, _, _ in found)
