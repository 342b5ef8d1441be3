"""A worker that has nothing left to start ends as soon as the last running trial does."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import optuna

from tuner.study import run_study, run_worker, trial_counts
from tuner.study.storage import open_storage


def test_waiting_worker_ends_when_the_last_trial_does(
    prepared_small: Path, sqlite_url: str, write_space: Callable[..., Path]
) -> None:
    heartbeat = 60
    stale_check_every = 5.0  # seconds, a waiting worker's stale-trial check with that heartbeat
    run_study(
        data_dir=prepared_small,
        model="als",
        storage=sqlite_url,
        study_name="end",
        n_trials=1,
        space_path=write_space(),
    )
    # "Another worker": a trial that runs (with heartbeats) until the test lets it end.
    started, release = threading.Event(), threading.Event()
    ended: list[float] = []

    def held(trial: optuna.trial.Trial) -> float:
        started.set()
        release.wait()
        return 0.0

    other = optuna.load_study(study_name="end", storage=open_storage(sqlite_url, heartbeat=60))
    holder = threading.Thread(
        target=other.optimize,
        args=(held,),
        kwargs={
            "n_trials": 1,
            "callbacks": [lambda s, t: ended.append(time.monotonic())],
        },
    )
    holder.start()
    started.wait()

    # This worker runs the budget's last trial, then has only the held one to wait for.
    finished: list[float] = []
    ran_one = threading.Event()
    worker = threading.Thread(
        target=lambda: (
            run_worker(
                storage=sqlite_url,
                study_name="end",
                n_trials=3,
                heartbeat=heartbeat,
                on_trial_end=lambda s, t: ran_one.set(),
            ),
            finished.append(time.monotonic()),
        )
    )
    worker.start()
    try:
        ran_one.wait()
    finally:
        release.set()
        holder.join()
        worker.join()
    study = optuna.load_study(study_name="end", storage=sqlite_url)
    assert trial_counts(study).finished == 3
    # It did not sleep out its stale-check interval before looking again (it used to: the
    # study then lingered for seconds after its last trial).
    lag = finished[0] - ended[0]
    assert lag < stale_check_every / 2, lag
