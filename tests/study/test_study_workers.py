"""Several worker processes on one study: exact global budget, and recovery from a killed one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from tuner.study import run_study, run_worker, split_threads, trial_counts
from tuner.study.storage import open_storage


def test_cores_are_split_between_workers() -> None:
    assert split_threads(1, cores=8) == 8
    assert split_threads(3, cores=8) == 2
    assert split_threads(4, cores=2) == 1


@pytest.mark.slow
def test_three_worker_processes_spend_the_exact_budget(
    prepared_small: Path, sqlite_url: str, write_space: Callable[..., Path], tuner_home: Path
) -> None:
    study = run_study(
        data_dir=prepared_small,
        model="als",
        storage=sqlite_url,
        study_name="w3",
        n_trials=9,
        workers=3,
        space_path=write_space(),
        cores=3,
    )
    counts = trial_counts(study)
    assert counts.finished == 9
    assert counts.running == counts.waiting == 0
    # No trial lost to SQLite locking: nothing failed, and only surplus trials beyond 9 exist.
    assert counts.failed == 0
    assert len(study.trials) == 9 + counts.surplus
    assert sorted(p.name for p in (tuner_home / "logs" / "w3").iterdir()) == [
        "worker-0.log",
        "worker-1.log",
        "worker-2.log",
    ]


SLOW_SPACE = """\
model = "als"
[params.factors]
type = "int"
low = 24
high = 32
[params.regularization]
type = "float"
low = 0.5
high = 5.0
log = true
[fixed]
iterations = 20
"""


@pytest.mark.slow
def test_killed_worker_trial_is_failed_by_heartbeat_and_retried(
    prepared_small: Path, sqlite_url: str, write_space: Callable[..., Path], tmp_path: Path
) -> None:
    space = write_space(SLOW_SPACE)
    common = dict(storage=sqlite_url, study_name="k", heartbeat=1)
    study = run_study(
        data_dir=prepared_small,
        model="als",
        n_trials=1,
        space_path=space,
        pruner="none",
        **common,  # type: ignore[arg-type]
    )
    earlier = study.trials[0]
    assert earlier.state == TrialState.COMPLETE

    # The victim's output goes to a file, so that a failure below says what the victim did.
    log_path = tmp_path / "victim.log"
    with open(log_path, "wb") as log:
        victim = subprocess.Popen(
            [sys.executable, "-m", "tuner", "worker", "--storage", sqlite_url, "--study-name",
             "k", "--n-trials", "3", "--heartbeat", "1"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "NUMBA_NUM_THREADS": "1"},
        )  # fmt: skip
    # One storage opened once and a query for running trials only: a poll takes milliseconds,
    # not the hundreds that a fresh load_study takes on a busy machine (a trial here lasts a
    # few seconds, and a slow poll could miss both of the victim's).
    storage = open_storage(sqlite_url, heartbeat=None)
    study_id = storage.get_study_id_from_name("k")
    killed = None
    try:
        deadline = time.monotonic() + 300  # only guards against hanging forever
        while killed is None and time.monotonic() < deadline and victim.poll() is None:
            for t in storage.get_all_trials(study_id, states=(TrialState.RUNNING,)):
                if t.intermediate_values:
                    killed = t
                    break
            else:
                time.sleep(0.01)
        if killed is None:
            tail = log_path.read_text(errors="replace").strip().splitlines()[-5:]
            pytest.fail(
                f"the worker never got mid-trial (exit status {victim.poll()}); its last lines:\n"
                + "\n".join(tail)
            )
        victim.send_signal(signal.SIGKILL)
    finally:
        victim.kill()
        victim.wait()
    assert optuna.load_study(study_name="k", storage=sqlite_url).trials[killed.number].state == (
        TrialState.RUNNING
    )

    result = run_worker(n_trials=3, **common)  # type: ignore[arg-type]
    study = optuna.load_study(study_name="k", storage=sqlite_url)
    dead = study.trials[killed.number]
    assert dead.state == TrialState.FAIL
    retries = [t for t in study.trials if t.system_attrs.get("failed_trial") == killed.number]
    assert len(retries) == 1
    assert retries[0].state == TrialState.COMPLETE
    assert retries[0].params == killed.params
    # Earlier work is intact and the budget is reached exactly.
    assert study.trials[0].value == earlier.value
    assert study.trials[0].state == TrialState.COMPLETE
    assert result.counts.finished == 3
    assert result.counts.retried == 1
    assert result.counts.running == result.counts.waiting == 0


def test_budget_counts_ignore_retried_surplus_and_interrupted_failures() -> None:
    study = optuna.create_study()
    dist = {"x": optuna.distributions.FloatDistribution(0, 1)}

    def add(state: TrialState, **extra: object) -> None:
        study.add_trial(
            optuna.create_trial(
                state=state,
                params={"x": 0.5},
                distributions=dist,
                value=0.1 if state == TrialState.COMPLETE else None,
                **extra,  # type: ignore[arg-type]
            )
        )

    add(TrialState.COMPLETE)  # 0
    add(TrialState.FAIL)  # 1: killed, then retried as 5
    add(TrialState.FAIL, user_attrs={"fail_reason": "diverged"})  # 2: counts
    add(TrialState.FAIL, user_attrs={"surplus": True})  # 3
    add(TrialState.FAIL, user_attrs={"interrupted": True})  # 4
    add(TrialState.WAITING, system_attrs={"failed_trial": 1, "retry_history": [1]})  # 5
    add(TrialState.PRUNED)  # 6
    counts = trial_counts(study)
    assert (counts.complete, counts.pruned, counts.failed, counts.waiting) == (1, 1, 1, 1)
    assert (counts.retried, counts.surplus, counts.interrupted) == (1, 1, 1)
    assert counts.finished == 3 and counts.claimed == 4


def _sigint_lands_here() -> None:
    """Send this process a SIGINT and give its handler time to run here, where the caller is."""
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(0.1)


class _SigintSampler(optuna.samplers.TPESampler):
    """TPE that sends this process one SIGINT while Optuna creates (``before_trial``) or
    closes (``after_trial``) a trial: where a Ctrl-C used to leave a trial RUNNING forever."""

    def __init__(self, when: str) -> None:
        super().__init__(seed=0)
        self.when = when
        self.sent = False

    def _interrupt(self) -> None:
        if not self.sent:
            self.sent = True
            _sigint_lands_here()  # in the middle of Optuna's bookkeeping

    def before_trial(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        super().before_trial(study, trial)
        if self.when == "ask":
            self._interrupt()

    def after_trial(
        self,
        study: optuna.Study,
        trial: optuna.trial.FrozenTrial,
        state: TrialState,
        values: object,
    ) -> None:
        if self.when == "tell":
            self._interrupt()
        super().after_trial(study, trial, state, values)  # type: ignore[arg-type]


@pytest.mark.usefixtures("sigint_raises")
@pytest.mark.parametrize("when", ["ask", "tell"])
def test_ctrl_c_while_optuna_books_a_trial_leaves_no_trial_running(
    when: str,
    prepared_small: Path,
    sqlite_url: str,
    write_space: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    common = dict(storage=sqlite_url, study_name="c", heartbeat=60)
    run_study(data_dir=prepared_small, model="als", n_trials=1, space_path=write_space(), **common)  # type: ignore[arg-type]
    sampler = _SigintSampler(when)
    monkeypatch.setattr("tuner.study.worker.make_sampler", lambda *a, **k: sampler)
    with pytest.raises(KeyboardInterrupt):
        run_worker(n_trials=3, **common)  # type: ignore[arg-type]
    assert sampler.sent
    study = optuna.load_study(study_name="c", storage=sqlite_url)
    last = study.trials[-1]
    assert [t.state for t in study.trials].count(TrialState.RUNNING) == 0
    if when == "ask":
        # the Ctrl-C came before the fit: the trial is failed as interrupted, not counted
        assert last.state == TrialState.FAIL and last.user_attrs["interrupted"]
    else:
        # the fit had ended: its result is kept
        assert last.state == TrialState.COMPLETE
    # Started again, the worker does not wait for a phantom trial and spends the budget.
    monkeypatch.undo()
    # (the timeout only turns a hang into a failure)
    result = run_worker(n_trials=3, timeout=300, **common)  # type: ignore[arg-type]
    assert result.counts.finished == 3
    assert result.counts.running == 0


@pytest.mark.usefixtures("sigint_raises")
def test_ctrl_c_during_a_report_lets_the_storage_call_finish(
    prepared_small: Path,
    sqlite_url: str,
    write_space: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    common = dict(storage=sqlite_url, study_name="r", heartbeat=60)
    run_study(data_dir=prepared_small, model="als", n_trials=1, space_path=write_space(), **common)  # type: ignore[arg-type]
    report = optuna.trial.Trial.report
    sent: list[tuple[int, int]] = []

    def interrupted_report(self: optuna.trial.Trial, value: float, step: int) -> None:
        if not sent:
            sent.append((self.number, step))
            _sigint_lands_here()  # as if in the middle of the report's database calls
        report(self, value, step)

    monkeypatch.setattr(optuna.trial.Trial, "report", interrupted_report)
    with pytest.raises(KeyboardInterrupt):
        run_worker(n_trials=3, **common)  # type: ignore[arg-type]
    assert sent
    number, step = sent[0]
    trial = optuna.load_study(study_name="r", storage=sqlite_url).trials[number]
    # the report that the Ctrl-C landed in was written whole, and the run stopped right after
    assert step in trial.intermediate_values
    assert max(trial.intermediate_values) == step
    assert trial.state == TrialState.FAIL and trial.user_attrs["interrupted"]


def test_trial_that_never_got_a_heartbeat_is_failed_and_retried(
    prepared_small: Path, sqlite_url: str, write_space: Callable[..., Path]
) -> None:
    common = dict(storage=sqlite_url, study_name="o")
    run_study(
        data_dir=prepared_small,
        model="als",
        n_trials=1,
        space_path=write_space(),
        heartbeat=1,
        **common,
    )  # type: ignore[arg-type]
    # a worker killed between creating a trial and its first heartbeat leaves this behind
    study = optuna.load_study(study_name="o", storage=sqlite_url)
    orphan = study.ask({"factors": optuna.distributions.IntDistribution(4, 8)})
    # (the timeout only turns a hang into a failure)
    result = run_worker(n_trials=2, heartbeat=1, timeout=300, **common)  # type: ignore[arg-type]
    study = optuna.load_study(study_name="o", storage=sqlite_url)
    dead = study.trials[orphan.number]
    assert dead.state == TrialState.FAIL
    assert "first heartbeat" in dead.user_attrs["fail_reason"]
    retries = [t for t in study.trials if t.system_attrs.get("failed_trial") == orphan.number]
    assert len(retries) == 1
    assert retries[0].state in (TrialState.COMPLETE, TrialState.PRUNED)
    assert retries[0].params["factors"] == orphan.params["factors"]
    assert result.counts.finished == 2
    assert result.counts.running == result.counts.waiting == 0
