"""The environment is the locked one: every package at requirements.lock's version."""

from __future__ import annotations

import re
from importlib import metadata

from packaging.requirements import Requirement

from tests.conftest import REPOSITORY

LOCK = REPOSITORY / "requirements.lock"


def locked() -> dict[str, str]:
    pins = {}
    for line in LOCK.read_text().splitlines():
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==(\S+)", line.strip())
        if match:
            pins[match[1].lower().replace("_", "-")] = match[2]
    return pins


def test_every_installed_locked_package_has_the_locked_version():
    pins = locked()
    wrong = {}
    for distribution in metadata.distributions():
        name = distribution.metadata["Name"].lower().replace("_", "-")
        if name in pins and distribution.version != pins[name]:
            wrong[name] = (distribution.version, pins[name])
    assert wrong == {}, "installed (left) differs from requirements.lock (right)"


def test_every_dependency_of_the_project_is_locked():
    import tomllib

    project = tomllib.loads((REPOSITORY / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        wanted += extra
    pins = locked()
    missing = [r for r in wanted
               if Requirement(r).name.lower().replace("_", "-") not in pins]
    assert missing == []
    for requirement in map(Requirement, wanted):
        version = pins[requirement.name.lower().replace("_", "-")]
        assert requirement.specifier.contains(version), (requirement, version)
