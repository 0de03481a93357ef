"""A write that fails part-way leaves neither the final file nor a partial one.

The writers of `sim.files` write to a hidden temporary file and rename it; a run writes its
files into a staging folder and renames the folder (`sim.run`). Here the underlying write
is made to fail after writing some bytes (as a full disk does, ENOSPC), and what is left
is checked: the target as it was (absent, or its old content), and no temporary file.
"""

from __future__ import annotations

import errno
import json
import logging
import os
from pathlib import Path

import pandas as pd
import pytest

from sim import files, folders
from sim.cli import main as sim_main
from sim.config import to_dict
from sim.outputs import write_run
from sim.run import simulate
from tests.conftest import make_config


def disk_full() -> OSError:
    return OSError(errno.ENOSPC, "No space left on device")


def listing(folder: Path) -> list[str]:
    return sorted(str(path.relative_to(folder)) for path in folder.rglob("*"))


@pytest.fixture
def text_write_fails_half_way(monkeypatch):
    """Path.write_text writes half its text, then the disk is full."""
    def half(self, data, *args, **kwargs):
        with open(self, "w", encoding="utf-8") as handle:
            handle.write(data[: len(data) // 2])
        raise disk_full()

    monkeypatch.setattr(Path, "write_text", half)


@pytest.fixture
def parquet_write_fails(monkeypatch):
    """DataFrame.to_parquet fails after some bytes on the call numbered `fail_on` (0 first)."""
    calls = {"n": 0, "fail_on": 0}
    original = pd.DataFrame.to_parquet

    def failing(self, path, *args, **kwargs):
        number = calls["n"]
        calls["n"] += 1
        if number != calls["fail_on"]:
            return original(self, path, *args, **kwargs)
        with open(path, "wb") as handle:
            handle.write(b"PAR1" + b"\0" * 1000)
        raise disk_full()

    monkeypatch.setattr(pd.DataFrame, "to_parquet", failing)
    return calls


@pytest.mark.parametrize("existing", [None, "old content\n"])
@pytest.mark.parametrize("writer", ["write_text", "write_json"])
def test_a_failed_text_write_leaves_the_old_file_or_none(tmp_path, text_write_fails_half_way,
                                                         writer, existing):
    target = tmp_path / "summary.json"
    if existing is not None:
        with open(target, "w", encoding="utf-8") as handle:
            handle.write(existing)
    with pytest.raises(OSError):
        if writer == "write_text":
            files.write_text(target, "x" * 1000)
        else:
            files.write_json(target, {"key": "x" * 1000})
    if existing is None:
        assert listing(tmp_path) == []
    else:
        assert listing(tmp_path) == ["summary.json"]
        assert target.read_bytes() == existing.encode()


def test_a_failed_write_atomically_leaves_nothing(tmp_path):
    target = tmp_path / "figure.png"

    def write(path: Path) -> None:
        path.write_bytes(b"\x89PNG" + b"\0" * 500)
        raise disk_full()

    with pytest.raises(OSError):
        files.write_atomically(target, write)
    assert listing(tmp_path) == []


@pytest.fixture(scope="module")
def result():
    config = make_config("scenario=opportunity_area", "seed=1", "horizon_years=1",
                         "output.school_panel=true")
    return to_dict(config), simulate(config)


@pytest.mark.parametrize("fail_on", [0, 1, 2, 3], ids=["timeseries", "schools", "events", "cohorts"])
def test_a_run_file_that_fails_part_way_is_not_left(tmp_path, parquet_write_fails, result,
                                                    fail_on):
    parquet_write_fails["fail_on"] = fail_on
    config, simulated = result
    with pytest.raises(OSError):
        write_run(tmp_path, config, simulated)
    written = ["timeseries.parquet", "schools.parquet", "events.parquet", "cohorts.parquet"][:fail_on]
    assert listing(tmp_path) == sorted(["config.yaml", *written])
    for name in written:
        assert len(pd.read_parquet(tmp_path / name)) > 0
    assert "summary.json" not in listing(tmp_path), "summary.json is written last"


@pytest.fixture
def logging_restored():
    """Hydra configures logging for the run it starts in this process; put it back after."""
    loggers = [logging.getLogger(), *(logger for logger in logging.Logger.manager.loggerDict.values()
                                     if isinstance(logger, logging.Logger))]
    saved = [(logger, logger.level, list(logger.handlers), logger.disabled, logger.propagate)
             for logger in loggers]
    yield
    for logger, level, handlers, disabled, propagate in saved:
        for handler in logger.handlers:
            if handler not in handlers:
                handler.close()
        logger.setLevel(level)
        logger.handlers[:] = handlers
        logger.disabled, logger.propagate = disabled, propagate


def test_a_run_whose_write_fails_leaves_no_folder(tmp_path, monkeypatch, parquet_write_fails,
                                                  logging_restored):
    """`python -m sim`, in this process: the events file fails part-way (after the time
    series and the panel were written); nothing is left, neither the run folder nor its
    staging sibling."""
    parquet_write_fails["fail_on"] = 2
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.txt").write_bytes(b"a user's file")
    with pytest.raises(BaseException) as raised:
        sim_main(["scenario=opportunity_area", "horizon_years=1", "output.plots=false",
                  "output.progress=false", "output.school_panel=true",
                  f"hydra.run.dir={tmp_path / 'results' / 'run'}"])
    assert "space" in str(raised.value).lower()
    assert parquet_write_fails["n"] == 3, "the run reached its third Parquet file"
    assert listing(tmp_path) == ["mine.txt"]


def test_the_same_run_without_the_fault_is_complete(tmp_path, monkeypatch, logging_restored):
    monkeypatch.chdir(tmp_path)
    assert sim_main(["scenario=opportunity_area", "horizon_years=1", "output.plots=false",
                     "output.progress=false", f"hydra.run.dir={tmp_path / 'run'}"]) == 0
    assert {"config.yaml", "timeseries.parquet", "events.parquet", "summary.json"} \
        <= set(listing(tmp_path / "run"))
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["horizon_years"] == 1


# Names of exactly NAME_MAX (255) bytes, the longest the file system allows: ASCII, and
# characters of two, three and four bytes in UTF-8, where characters and bytes differ.
LONGEST_NAMES = {"ascii": "a" * 255, "two bytes": "é" * 127 + "a", "three bytes": "€" * 85,
                 "four bytes": "😀" * 63 + "abc", "a report's page": "é" * 125 + ".html"}


@pytest.mark.parametrize("kind", ["partial", "staging"])
@pytest.mark.parametrize("name", LONGEST_NAMES.values(), ids=LONGEST_NAMES.keys())
def test_every_hidden_name_fits_the_name_limit_in_bytes(tmp_path, name, kind):
    """A hidden name to stage under (a file's, a run folder's) is at most 255 bytes however
    many bytes the name's characters take; two names alike but for the end differ."""
    assert len(os.fsencode(name)) == files.NAME_MAX
    hidden = files.hidden_sibling(tmp_path / name, kind)
    assert hidden.parent == tmp_path and hidden.name.startswith(".")
    assert hidden.name.endswith(f"-{os.getpid()}.{kind}")
    assert len(os.fsencode(hidden.name)) <= files.NAME_MAX
    assert hidden != files.hidden_sibling(tmp_path / f"{name[:-1]}b", kind)
    assert files.hidden_sibling(tmp_path / "short", kind).name.startswith(".short.")


@pytest.mark.parametrize("name", LONGEST_NAMES.values(), ids=LONGEST_NAMES.keys())
def test_a_file_and_a_run_folder_of_the_longest_names_are_written_under_their_own(tmp_path,
                                                                                  name):
    """A file written atomically, and a staging folder renamed into place, end under the
    user's exact name, with nothing else left beside them."""
    files.write_text(tmp_path / name, "whole\n")
    assert [path.name for path in tmp_path.iterdir()] == [name]
    assert (tmp_path / name).read_text() == "whole\n"
    (tmp_path / name).unlink()
    staging = folders.staging_folder(tmp_path / name)
    staging.mkdir()
    os.rename(staging, tmp_path / name)
    assert [path.name for path in tmp_path.iterdir()] == [name]


def test_files_moved_into_a_users_folder_never_replace_what_another_run_put_there(tmp_path):
    """A run into an empty folder the user made moves its files in (`sim.run`); if another
    run into the same folder got there first, this one stops, takes back the files it had
    moved in, and leaves the other's as they are."""
    from sim.errors import UserError
    from sim.run import _move_files_into

    staging, final = tmp_path / ".run.host-1.staging", tmp_path / "run"
    staging.mkdir()
    final.mkdir()
    for name in ("config.yaml", "events.parquet", "summary.json", "timeseries.parquet"):
        (staging / name).write_text(f"this run's {name}")
    (final / "timeseries.parquet").write_text("the other run's")
    with pytest.raises(UserError, match="was filled by something else"):
        _move_files_into(staging, final)
    assert {p.name: p.read_text() for p in final.iterdir()} == {
        "timeseries.parquet": "the other run's"}
    # Into an empty folder: every file, under its name, and the staging folder gone.
    (final / "timeseries.parquet").unlink()
    for name in ("config.yaml", "events.parquet"):
        if not (staging / name).exists():
            (staging / name).write_text(f"this run's {name}")
    _move_files_into(staging, final)
    assert sorted(p.name for p in final.iterdir()) == [
        "config.yaml", "events.parquet", "summary.json", "timeseries.parquet"]
    assert not staging.exists()
