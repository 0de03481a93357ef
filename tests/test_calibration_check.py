"""`python -m sim.calibrate check --csv FILE`: the file is checked before any run starts.

A missing folder, a folder given as the file, a file inside a file, an empty name or a
file of the user's is refused in one line with exit status 2, before the runs (a default
check runs five seeds of England for ten years); a table the command wrote before is
replaced. The check is tested directly (`check_csv`), and through the command line.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim.calibrate.check import CSV_HEADER, check_csv
from sim.errors import UserError
from sim.scorecard.targets import calibration_table, load_targets
from tests.conftest import environment, snapshot

REFUSED = {
    "a missing folder": ("nope/table.csv", "the folder of --csv nope/table.csv does not exist: "
                                           "give a file in an existing folder"),
    "a folder": (".", "--csv . is a folder: give a file name"),
    "a file inside a file": ("notes.txt/table.csv", "the folder of --csv notes.txt/table.csv "
                                                    "is a file"),
    "a file of the user's": ("notes.txt", "--csv notes.txt exists and is not a table "
                                          "sim.calibrate wrote: give another file name"),
    "no name": ("", "--csv '' names no file"),
}
TINY = ("--seeds", "1", "--years", "1", "--scale", "0.01", "--workers", "1")


@pytest.fixture
def user_folder(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("mine\n")
    return tmp_path


@pytest.mark.parametrize("given, words", REFUSED.values(), ids=REFUSED.keys())
def test_a_csv_that_cannot_be_written_is_refused_naming_the_fix(user_folder, given, words):
    with pytest.raises(UserError) as refused:
        check_csv(given)
    assert words in str(refused.value)
    assert refused.value.status == 2


def test_a_new_file_or_a_table_the_command_wrote_is_taken(user_folder):
    assert check_csv(None) is None
    assert check_csv("table.csv") == Path("table.csv")
    (user_folder / "earlier.csv").write_text(f"{CSV_HEADER}\noutstanding,0.19,0.22\n")
    assert check_csv("earlier.csv") == Path("earlier.csv")  # replaced once the runs are done


def test_the_header_taken_for_the_command_s_own_is_the_header_of_its_table():
    measures = pd.DataFrame([{"seed": 0, "target": target.name, "year": year, "value": 0.5}
                             for target in load_targets() for year in (0, 1)])
    table = calibration_table(measures, 1.0).rename(columns={"pass": "in_band"})
    assert ",".join(table.columns) == CSV_HEADER  # as main writes it


def test_the_command_refuses_a_bad_csv_before_any_run_and_touches_nothing(user_folder):
    """Refused before any run (nothing printed: the table is printed once the runs are
    done), nothing created, changed or removed; tiny settings, in case a run starts."""
    before = snapshot(user_folder)
    for given, words in (("nope/table.csv", "does not exist"),
                         ("notes.txt", "exists and is not a table")):
        result = subprocess.run([sys.executable, "-m", "sim.calibrate", "check", *TINY,
                                 "--csv", given], cwd=user_folder, text=True,
                                capture_output=True, env=environment(), timeout=120)
        assert result.returncode == 2, result.stderr
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith("sim: error: ") and words in line, line
        assert result.stdout == ""
    assert snapshot(user_folder) == before
