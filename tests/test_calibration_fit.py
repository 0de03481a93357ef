"""`python -m sim.calibrate fit`: the scoring, the declared study, a tiny fit and its resumption."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sim.calibrate import fit
from sim.calibrate.narrowing import narrowing_table
from sim.calibrate.scoring import (
    CENTRING_WEIGHT,
    UNDEFINED_DISTANCE,
    score_targets,
    target_distance,
    total,
)
from sim.calibrate.sobol import SobolSampler
from sim.calibrate.space import DEFAULT_STUDY_FILE, load_study
from sim.config import configure
from sim.errors import UserError
from tests.conftest import as_at_a_terminal, environment

TINY = ["--trials", "2", "--seeds", "2", "--scale", "0.02", "--years", "1", "--workers", "1"]


def test_distance_is_zero_inside_the_band_and_grows_outside() -> None:
    assert target_distance([0.5, 0.5], 0.4, 0.6).distance == 0.0
    assert target_distance([0.4, 0.6], 0.4, 0.6).distance == 0.0
    # one seed, no noise: 0.1 above a band 0.2 wide is half a width
    assert target_distance([0.7], 0.4, 0.6).distance == pytest.approx(0.5)
    assert target_distance([0.0], 0.4, 0.6).distance == pytest.approx(2.0)
    farther = [target_distance([value, value], 0.4, 0.6).distance for value in (0.65, 0.7, 0.9)]
    assert farther == sorted(farther) and farther[0] > 0


def test_seed_noise_is_taken_off_the_distance() -> None:
    # mean 0.7, standard error 0.1 (values 0.6 and 0.8): 0.1 outside, less 0.1, is 0
    assert target_distance([0.6, 0.8], 0.4, 0.6).distance == pytest.approx(0.0)
    # mean 0.8, standard error 0.1: 0.2 outside less 0.1, over a width of 0.2
    assert target_distance([0.7, 0.9], 0.4, 0.6).distance == pytest.approx(0.5)


def test_a_target_undefined_in_every_seed_is_not_in_band() -> None:
    scored = target_distance([None, None], 0.4, 0.6)
    assert math.isnan(scored.mean) and scored.distance == UNDEFINED_DISTANCE


def test_among_sets_in_band_the_score_prefers_means_near_the_centres() -> None:
    bands = {"a": (0.4, 0.6), "b": (10.0, 20.0)}
    central = total(score_targets({"a": [0.5, 0.5], "b": [15.0, 15.0]}, bands))
    near_edge = total(score_targets({"a": [0.59, 0.59], "b": [11.0, 11.0]}, bands))
    outside = total(score_targets({"a": [0.63, 0.63], "b": [15.0, 15.0]}, bands))
    assert central == pytest.approx(0.0) and 0 < near_edge <= CENTRING_WEIGHT
    # the tie-break never outweighs landing outside a band (here by 0.15 of its width)
    assert outside > near_edge and outside > 0.1


def test_the_sobol_sampler_takes_each_trial_s_point_from_its_number() -> None:
    import optuna
    from scipy.stats import qmc

    space = {"x": optuna.distributions.FloatDistribution(0.0, 2.0),
             "y": optuna.distributions.FloatDistribution(0.01, 1.0, log=True)}

    def run(trials: int) -> list[dict[str, float]]:
        study = optuna.create_study(sampler=SobolSampler(space, seed=3))
        study.optimize(lambda t: t.suggest_float("x", 0.0, 2.0)
                       + t.suggest_float("y", 0.01, 1.0, log=True), n_trials=trials)
        return [t.params for t in study.trials]

    drawn = run(4)
    points = qmc.Sobol(2, scramble=True, seed=3).random(4)
    for params, (x, y) in zip(drawn, points, strict=True):
        assert params["x"] == pytest.approx(2 * x)
        assert params["y"] == pytest.approx(0.01 * 100 ** y)  # even in the logarithm
    assert len({round(p["x"], 12) for p in drawn}) == 4  # no point repeated
    assert run(2) == drawn[:2]  # a trial's point does not depend on who else sampled


def test_narrowing_measures_the_share_of_the_declared_range_kept() -> None:
    from sim.calibrate.space import FreeParameter

    wide = FreeParameter("model.a.wide", 0.0, 1.0, "linear", "judgement")
    narrow = FreeParameter("model.a.narrow", 0.0, 1.0, "linear", "judgement")
    logged = FreeParameter("model.a.logged", 0.01, 1.0, "log", "judgement")
    even = (pd.Series(range(1000)) + 0.5) / 1000
    table = narrowing_table((wide, narrow, logged), pd.DataFrame(
        {"a.wide": even, "a.narrow": 0.4 + 0.1 * even, "a.logged": 0.01 * 100 ** even}))
    shares = dict(zip(table["parameter"], table["share_kept"], strict=True))
    assert shares["model.a.wide"] == pytest.approx(1.0, abs=0.01)
    assert shares["model.a.narrow"] == pytest.approx(0.1, abs=0.01)
    assert shares["model.a.logged"] == pytest.approx(1.0, abs=0.01)  # even on its scale
    assert narrowing_table((wide,), pd.DataFrame({"a.wide": []}))["share_kept"].isna().all()


def test_the_declared_study_has_the_targets_and_no_validation_pattern() -> None:
    study = load_study()
    assert 6 <= len(study.parameters) <= 10
    assert "requires_improvement_to_good_or_better_at_next_graded" in study.target_names
    assert "good_or_better_stays_good_or_better" not in study.target_names
    fit.check_corners(study)


def test_a_range_outside_the_declared_bounds_is_refused(tmp_path: Path) -> None:
    text = DEFAULT_STUDY_FILE.read_text(encoding="utf-8").replace(
        "    low: 0.1\n    high: 2.0\n", "    low: 0.1\n    high: 9.0\n", 1)
    declared = tmp_path / "study.yaml"
    declared.write_text(text, encoding="utf-8")
    with pytest.raises(UserError) as refused:
        load_study(declared)
    message = str(refused.value)
    assert "\n" not in message and "model.improvement.support_effect" in message
    assert "outside what the parameter allows" in message


def test_only_model_parameters_can_be_fitted(tmp_path: Path) -> None:
    declared = tmp_path / "study.yaml"
    declared.write_text(DEFAULT_STUDY_FILE.read_text(encoding="utf-8").replace(
        "parameters:\n", "parameters:\n  scenario.teacher_supply:\n    low: 0.9\n    high: 1.1\n"
        "    scale: linear\n    why: judgement\n", 1), encoding="utf-8")
    with pytest.raises(UserError, match=r"'scenario\.teacher_supply' is not a model parameter"):
        load_study(declared)


def test_the_command_refuses_a_bad_range_in_one_line(tmp_path: Path) -> None:
    declared = tmp_path / "study.yaml"
    declared.write_text(DEFAULT_STUDY_FILE.read_text(encoding="utf-8").replace(
        "    low: 0.1\n    high: 0.6\n", "    low: 0.1\n    high: 3.5\n", 1), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "sim.calibrate", "fit", "--study", str(tmp_path / "study"),
         "--config", str(declared), *TINY], capture_output=True, text=True, env=environment(),
        timeout=120)
    assert result.returncode == 2 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("sim: error: ") and "model.inspection.noise_sd" in line
    assert not (tmp_path / "study").exists()


def test_a_tiny_fit_writes_its_outputs_and_resumes(tmp_path: Path, capsys) -> None:
    study = tmp_path / "study"
    assert fit.main(["--study", str(study), *TINY]) == 0
    printed = capsys.readouterr().out
    assert "trial 0: score" in printed and "trial 1: score" in printed and "best" in printed
    assert (study / "study.journal").is_file()
    plausible = pd.read_csv(study / "plausible.csv")
    assert "improvement.support_effect" in plausible.columns and "good" in plausible.columns
    narrowing = pd.read_csv(study / "narrowing.csv")
    assert list(narrowing["parameter"]) == [p.key for p in load_study().parameters]
    overrides = (study / "best_overrides.txt").read_text(encoding="utf-8").split()
    assert len(overrides) == len(load_study().parameters)
    # the best set, as overrides and as the model option `model=calibrated`
    assert configure(["scenario=national", *overrides]).model.improvement.support_effect > 0
    chosen = configure(["scenario=national", "model=calibrated",
                        f"hydra.searchpath=[file://{study}]"])
    assert f"model.improvement.support_effect={chosen.model.improvement.support_effect!r}" \
        in overrides
    # the first trial of a new study is the model's defaults (all inside the declared ranges)
    import optuna

    trial_zero = optuna.load_study(study_name=fit.STUDY_NAME,
                                   storage=fit.storage_of(study)).trials[0]
    defaults = {p.key: p.default for p in load_study().parameters}
    assert None not in defaults.values()
    assert trial_zero.params == pytest.approx(defaults)
    # a second fit in the same folder adds its trials to the same study
    assert fit.main(["--study", str(study), *TINY]) == 0
    printed = capsys.readouterr().out
    assert "2 trials so far" in printed and "4 trials complete" in printed
    # a study's settings are fixed when it starts
    with pytest.raises(UserError, match="started with other seeds"):
        fit.main(["--study", str(study), *TINY[:2], "--seeds", "3", *TINY[4:]])


@pytest.fixture
def short_lock_grace(monkeypatch) -> None:
    """A process killed while writing leaves the journal's lock behind, which the next
    writer in this process takes over after Optuna's grace period (30 s); here after 3 s."""
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock

    def storage_of(folder: Path) -> JournalStorage:
        path = str(folder.resolve() / fit.JOURNAL)
        return JournalStorage(JournalFileBackend(
            path, lock_obj=JournalFileOpenLock(path, grace_period=3)))

    monkeypatch.setattr(fit, "storage_of", storage_of)


def _fit_interrupted_by(how: signal.Signals, study: Path) -> subprocess.CompletedProcess[str]:
    """Start a two-worker fit as a user would at a terminal, wait for its first trials,
    then send `how`: Ctrl-C to the whole process group (as a terminal does), SIGTERM to the
    command alone (as a scheduler does)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "sim.calibrate", "fit", "--study", str(study), "--trials", "200",
         *TINY[2:], "--workers", "2"],
        env=environment(), text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        preexec_fn=as_at_a_terminal, start_new_session=True)
    assert process.stdout is not None
    for line in process.stdout:  # the workers are running trials
        if line.startswith("trial 1:"):
            break
    if how == signal.SIGINT:
        os.killpg(process.pid, signal.SIGINT)
    else:
        process.send_signal(how)
    out, err = process.communicate(timeout=60)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


@pytest.mark.parametrize("how, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_fit_stopped_says_one_line_ends_its_workers_and_keeps_its_trials(
        tmp_path: Path, how: signal.Signals, status: int, short_lock_grace: None) -> None:
    study = tmp_path / "study"
    stopped = _fit_interrupted_by(how, study)
    assert stopped.returncode == status
    assert stopped.stderr.strip().splitlines() == [stopped.stderr.strip()]  # one line
    assert stopped.stderr.startswith("sim: ") and "Traceback" not in stopped.stderr
    assert "the trials finished are kept" in stopped.stderr
    # no worker is left running trials into the study
    time.sleep(1)
    size = (study / "study.journal").stat().st_size
    time.sleep(2)
    assert (study / "study.journal").stat().st_size == size
    # and the same command goes on from the trials finished
    assert fit.main(["--study", str(study), *TINY]) == 0


def test_trials_a_killed_fit_left_running_are_failed_and_run_again(
        tmp_path: Path, capsys, monkeypatch, short_lock_grace: None) -> None:
    import optuna

    from sim.calibrate import abandoned

    # A trial created by a process killed before it recorded itself names no process; in
    # use it is taken for abandoned after a minute, here at once.
    monkeypatch.setattr(abandoned, "UNMARKED_GRACE_SECONDS", 0.0)

    study = tmp_path / "study"
    process = subprocess.Popen(
        [sys.executable, "-m", "sim.calibrate", "fit", "--study", str(study), "--trials", "200",
         *TINY[2:], "--workers", "2"], env=environment(), text=True, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, start_new_session=True)
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("trial 1:"):
            break
    os.killpg(process.pid, signal.SIGKILL)  # no handler runs: the trials stay "running"
    process.wait(timeout=60)
    process.stdout.close()
    journal = optuna.load_study(study_name=fit.STUDY_NAME, storage=fit.storage_of(study))
    running = [t for t in journal.trials if t.state == optuna.trial.TrialState.RUNNING]
    assert running  # each worker was inside a trial
    # SIGKILL reaches the workers in their own time: wait until they are gone
    from sim.calibrate.abandoned import _alive

    deadline = time.monotonic() + 30
    while any(_alive(t.user_attrs["worker"]["pid"]) for t in running if "worker" in t.user_attrs):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert fit.main(["--study", str(study), "--trials", "4", *TINY[2:]]) == 0
    assert "were left running by a fit that was stopped or killed" in capsys.readouterr().out
    journal = fit.open_study(study, fit.settings_of(load_study(), 2, 0.02, 1), 0,
                             load_study().parameters)
    states = {t.number: t.state for t in journal.trials}
    assert optuna.trial.TrialState.RUNNING not in states.values()
    for trial in running:
        assert states[trial.number] == optuna.trial.TrialState.FAIL
        # its parameter set (a Sobol point, known from its number) ran again
        lost = journal.sampler.point(journal, trial.number)
        assert trial.params == pytest.approx({k: lost[k] for k in trial.params})
        assert any(t.params == pytest.approx(lost)
                   and t.state == optuna.trial.TrialState.COMPLETE for t in journal.trials), \
            (trial.number, lost, [(t.number, t.state, t.params) for t in journal.trials])


def test_a_study_is_written_only_into_a_new_empty_or_study_folder(tmp_path: Path) -> None:
    users = tmp_path / "users"
    users.mkdir()
    (users / "plausible.csv").write_text("mine\n", encoding="utf-8")
    for study, refused in [("", "--study is empty"), (str(users), "holds files but no"),
                           (str(users / "plausible.csv"), "is a file, not a folder")]:
        with pytest.raises(UserError, match=refused):
            fit.main(["--study", study, *TINY])
    assert (users / "plausible.csv").read_text(encoding="utf-8") == "mine\n"
    assert sorted(p.name for p in users.iterdir()) == ["plausible.csv"]
    # a study folder whose output names are taken by the wrong kind of entry
    study = tmp_path / "study"
    assert fit.main(["--study", str(study), *TINY]) == 0
    (study / "narrowing.csv").unlink()
    (study / "narrowing.csv").mkdir()
    with pytest.raises(UserError, match="is a folder, where the fit writes a file"):
        fit.main(["--study", str(study), *TINY])


def test_a_journal_cut_short_by_a_kill_is_repaired_and_one_damaged_is_refused(
        tmp_path: Path, capsys) -> None:
    import optuna

    study = tmp_path / "study"
    assert fit.main(["--study", str(study), *TINY]) == 0
    journal = study / fit.JOURNAL
    whole = journal.read_bytes()
    journal.write_bytes(whole + b'{"op_code": 5, "worker_id": "x", "tri')  # a kill mid-write
    # a lock link left by a writer killed under another path points nowhere
    (study / (fit.JOURNAL + ".lock")).symlink_to(tmp_path / "elsewhere" / fit.JOURNAL)
    assert fit.main(["--study", str(study), *TINY]) == 0
    printed = capsys.readouterr().out
    assert "cut off the last line" in printed and "removed a lock" in printed
    trials = optuna.load_study(study_name=fit.STUDY_NAME, storage=fit.storage_of(study)).trials
    assert len(trials) == 4 and journal.read_bytes().startswith(whole)
    lines = journal.read_bytes().splitlines()
    journal.write_bytes(b"\n".join([*lines[:3], b"not a record", *lines[3:]]) + b"\n")
    damaged = journal.read_bytes()
    with pytest.raises(UserError, match="is damaged at line 4"):
        fit.main(["--study", str(study), *TINY])
    assert journal.read_bytes() == damaged  # left as it was
