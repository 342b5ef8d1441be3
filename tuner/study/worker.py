"""One worker process: load the data once, then run trials until the global budget is spent.

The budget counts *finished* trials (COMPLETE + PRUNED + FAIL) over all workers. A FAIL trial
that the heartbeat retried is not counted (its WAITING copy is), nor one interrupted by Ctrl-C,
nor a trial a worker started after the budget was already spent (the rare race of two workers
starting the last trial at once: the loser is failed at once with ``surplus`` set and counts
for nothing), nor a probe that repeats one already in the study (two workers finishing at once
may both enqueue it; :mod:`tuner.study.probes`), failed the same way.

Ctrl-C (SIGINT) stops a trial's fitting at once, but waits while Optuna creates or closes a trial
in the storage: interrupted there, a trial would stay RUNNING with no heartbeat, which Optuna
never fails, and every worker would wait for it forever. A second Ctrl-C a second or more after
the first stops at once.
"""

from __future__ import annotations

import dataclasses
import logging
import signal
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from tuner.errors import ConfigError, SolverError, StorageError
from tuner.objectives import (
    ATTR_PROBE,
    DEFAULT_MIN_GAIN,
    DEFAULT_PATIENCE,
    METRIC,
    get_objective,
)
from tuner.study.factories import DEFAULT_SAMPLER, make_pruner, make_sampler
from tuner.study.probes import ATTR_PROBE_OF, EnqueueProbes
from tuner.study.spaces import SearchSpace, load_space, parse_space
from tuner.study.storage import DEFAULT_HEARTBEAT, describe, open_storage

if TYPE_CHECKING:
    import optuna

    from tuner.data import PreparedData

# Study user attributes written by `tuner study` and checked by every worker.
ATTR_MODEL = "model"
ATTR_FINGERPRINT = "data_fingerprint"
ATTR_SPACE = "search_space"
ATTR_METRIC = "metric"
ATTR_BUDGET = "n_trials"
ATTR_SEED = "seed"
ATTR_PRUNER = "pruner"
ATTR_DATA_DIR = "data_dir"
ATTR_REPORT_USERS = "report_users"
ATTR_SAMPLER = "sampler"
ATTR_PATIENCE = "patience"
ATTR_MIN_GAIN = "min_gain"


class _BudgetSpent(Exception):
    """Raised inside a trial that started after the global budget was already spent, or that
    repeats a probe another trial runs."""


def _earlier_twin(trial: optuna.trial.Trial, counted: list[Any]) -> int | None:
    """The number of a counted trial before ``trial`` that is the same probe (same trial
    doubled, same probed value), if any: two workers finishing at once may both enqueue it."""
    probe = trial.user_attrs.get(ATTR_PROBE)
    if not probe:
        return None
    key = (trial.user_attrs.get(ATTR_PROBE_OF), probe)
    for t in counted:
        same = (t.user_attrs.get(ATTR_PROBE_OF), t.user_attrs.get(ATTR_PROBE)) == key
        if same and t.number < trial.number:
            return int(t.number)
    return None


@dataclasses.dataclass(frozen=True)
class TrialCounts:
    """Trials of a study by what they mean for the budget.

    ``failed`` excludes FAIL trials that were retried, surplus or interrupted (Ctrl-C).
    """

    complete: int = 0
    pruned: int = 0
    failed: int = 0
    running: int = 0
    waiting: int = 0
    retried: int = 0
    surplus: int = 0
    interrupted: int = 0

    @property
    def finished(self) -> int:
        return self.complete + self.pruned + self.failed

    @property
    def claimed(self) -> int:
        """Finished plus started or queued: trials that will end up counted."""
        return self.finished + self.running + self.waiting


def _budget_trials(trials: list[optuna.trial.FrozenTrial]) -> tuple[list[Any], set[int]]:
    """The trials that count for the budget (in number order), and the retried FAIL numbers."""
    from optuna.trial import TrialState

    retried: set[int] = set()
    for t in trials:
        retried.update(t.system_attrs.get("retry_history", ()))
    counted = [
        t
        for t in trials
        if not (
            t.state == TrialState.FAIL
            and (
                t.number in retried
                or t.user_attrs.get("surplus", False)
                or t.user_attrs.get("interrupted", False)
            )
        )
    ]
    return counted, retried


def trial_counts(study: optuna.Study) -> TrialCounts:
    """Count a study's trials as the budget sees them."""
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    counted, retried = _budget_trials(trials)
    by_state = {s: 0 for s in TrialState}
    for t in counted:
        by_state[t.state] += 1
    failed = [t for t in trials if t.state == TrialState.FAIL]
    n_retried = sum(1 for t in failed if t.number in retried)
    return TrialCounts(
        complete=by_state[TrialState.COMPLETE],
        pruned=by_state[TrialState.PRUNED],
        failed=by_state[TrialState.FAIL],
        running=by_state[TrialState.RUNNING],
        waiting=by_state[TrialState.WAITING],
        retried=n_retried,
        surplus=sum(1 for t in failed if t.user_attrs.get("surplus", False)),
        interrupted=sum(1 for t in failed if t.user_attrs.get("interrupted", False)),
    )


def load_study(
    storage_url: str,
    study_name: str,
    *,
    heartbeat: int | None = None,
    sampler: Any = None,
    pruner: Any = None,
) -> optuna.Study:
    """Load an existing study; StorageError when the storage has no study of that name."""
    import optuna

    storage = open_storage(storage_url, heartbeat=heartbeat)
    try:
        return optuna.load_study(
            study_name=study_name, storage=storage, sampler=sampler, pruner=pruner
        )
    except KeyError:
        names = sorted(s.study_name for s in optuna.get_all_study_summaries(storage))
        raise StorageError(
            f"No study {study_name!r} in storage {describe(storage_url)!r}; existing: "
            f"{names or 'none'}. Create it with 'tuner study --study-name {study_name} ...'."
        ) from None


def check_compatible(
    attrs: dict[str, Any],
    *,
    study_name: str,
    fingerprint: str | None = None,
    space: SearchSpace | None = None,
    model: str | None = None,
) -> None:
    """Refuse to work on a study built on other data, another model or another space.

    Raises:
        StorageError: naming the mismatch and the fix.
    """
    stored_model = attrs.get(ATTR_MODEL)
    if model is not None and stored_model is not None and stored_model != model:
        raise StorageError(
            f"Study {study_name!r} tunes model {stored_model!r}, not {model!r}. "
            "Use another --study-name for another model."
        )
    stored_fp = attrs.get(ATTR_FINGERPRINT)
    if fingerprint is not None and stored_fp is not None and stored_fp != fingerprint:
        raise StorageError(
            f"Study {study_name!r} was built on data with fingerprint {stored_fp[:12]}..., but "
            f"--data has fingerprint {fingerprint[:12]}...; pass the same prepared split or use "
            "another --study-name."
        )
    stored_space = attrs.get(ATTR_SPACE)
    if space is not None and stored_space is not None:
        theirs = parse_space(stored_space, source=f"study {study_name!r}")
        if theirs.canonical() != space.canonical():
            raise StorageError(
                f"Study {study_name!r} searches another space than {space.source!r}; "
                "drop --space to use the study's own, or use another --study-name."
            )


@dataclasses.dataclass
class WorkerResult:
    """What one worker did."""

    trials_run: int
    counts: TrialCounts


class _InterruptWithoutTraceback(logging.Filter):
    """Optuna logs a trial stopped by Ctrl-C with the whole KeyboardInterrupt traceback; keep
    its one-line message ("Trial 7 failed ... KeyboardInterrupt()") only."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info
        if exc and exc[0] is not None and issubclass(exc[0], KeyboardInterrupt):
            record.exc_info = None
            record.exc_text = None
        return True


_INTERRUPT_FILTER = _InterruptWithoutTraceback()

# a second Ctrl-C at least this long after a deferred one stops at once (not the echo of the
# first, e.g. the terminal's SIGINT to the process group followed by the parent's forwarding)
FORCE_AFTER = 1.0


class _Interrupts:
    """SIGINT raises KeyboardInterrupt inside :meth:`allowed` regions only; elsewhere it is
    remembered and raised by the next :meth:`check` or :meth:`allowed`.

    Installed only in the main thread, and not where SIGINT is ignored (``nohup``, background
    jobs of a non-interactive shell), which stays so.
    """

    def __init__(self) -> None:
        self.pending_since: float | None = None
        self.immediate = False
        self._previous: Any = None
        self._installed = False

    def __enter__(self) -> _Interrupts:
        if threading.current_thread() is threading.main_thread():
            previous = signal.getsignal(signal.SIGINT)
            if previous is not signal.SIG_IGN:
                self._previous = signal.signal(signal.SIGINT, self._handle)
                self._installed = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)
            self._installed = False

    def _handle(self, signum: int, frame: Any) -> None:
        now = time.monotonic()
        if self.immediate or (
            self.pending_since is not None and now - self.pending_since >= FORCE_AFTER
        ):
            self.pending_since = None
            raise KeyboardInterrupt
        if self.pending_since is None:
            self.pending_since = now

    def check(self) -> None:
        """Raise the KeyboardInterrupt of a deferred Ctrl-C."""
        if self.pending_since is not None:
            self.pending_since = None
            raise KeyboardInterrupt

    @contextmanager
    def allowed(self) -> Iterator[None]:
        """A region that Ctrl-C may stop at once (fitting, scoring, waiting)."""
        self.check()
        self.immediate = True
        try:
            yield
        finally:
            self.immediate = False

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """A region inside :meth:`allowed` that Ctrl-C must not cut short (a storage call: an
        interrupted database fetch leaves a closed cursor and a logged traceback); a Ctrl-C
        received there is raised as soon as it ends."""
        outer = self.immediate
        self.immediate = False
        try:
            yield
        finally:
            self.immediate = outer
        if outer:
            self.check()


class _StorageSafeTrial:
    """The trial as the objective sees it: its calls (reports, pruning checks, attributes,
    suggestions, all of which go to the storage) run in :meth:`_Interrupts.deferred`."""

    def __init__(self, trial: optuna.trial.Trial, interrupts: _Interrupts) -> None:
        self._trial = trial
        self._interrupts = interrupts

    def __getattr__(self, name: str) -> Any:
        with self._interrupts.deferred():  # properties such as ``params`` read the storage too
            attr = getattr(self._trial, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            with self._interrupts.deferred():
                return attr(*args, **kwargs)

        return call


def _fail_orphaned_trials(study: optuna.Study, grace: float, first_seen: dict[int, float]) -> None:
    """Fail (and retry, as for a stale heartbeat) RUNNING trials that never got a heartbeat.

    Optuna fails only trials whose heartbeat went stale; a worker killed between creating a
    trial and its first heartbeat leaves one with none, RUNNING forever. Such a trial is failed
    once this worker has seen it without a heartbeat for ``grace`` seconds (its own clock: the
    trial's start time was written by another machine's).
    """
    import optuna
    from optuna.trial import TrialState

    from tuner._compat import optuna_rdb_models, rdb_backend, study_storage

    storage = study_storage(study)
    if storage is None:
        return
    backend = rdb_backend(storage)
    if backend is None:  # journal and in-memory storages have no database to query
        return
    models = optuna_rdb_models()
    if models is None:
        return
    study_id = backend.get_study_id_from_name(study.study_name)
    session = backend.scoped_session()
    try:
        rows = (
            session.query(models.TrialModel.trial_id)
            .outerjoin(models.TrialHeartbeatModel)
            .filter(models.TrialModel.study_id == study_id)
            .filter(models.TrialModel.state == TrialState.RUNNING)
            .filter(models.TrialHeartbeatModel.trial_heartbeat_id.is_(None))
            .all()
        )
    finally:
        session.close()
    now = time.monotonic()
    orphans = {int(r[0]) for r in rows}
    for trial_id in list(first_seen):
        if trial_id not in orphans:
            del first_seen[trial_id]
    callback = backend.get_heartbeat_stale_trial_callback()
    for trial_id in orphans:
        seen = first_seen.setdefault(trial_id, now)
        if now - seen < grace:
            continue
        del first_seen[trial_id]
        try:
            storage.set_trial_user_attr(
                trial_id, "fail_reason", "its worker stopped before the trial's first heartbeat"
            )
            if not storage.set_trial_state_values(trial_id, state=TrialState.FAIL):
                continue
        except optuna.exceptions.UpdateFinishedTrialError:
            continue
        if callback is not None:
            callback(study, storage.get_trial(trial_id))


# seconds between two looks of a waiting worker at the trials other workers run
WAIT_STEP = 0.2


def _wait_while_running(
    study: optuna.Study, running: int, seconds: float, interrupts: _Interrupts
) -> None:
    """Wait up to ``seconds`` while ``running`` trials of ``study`` run; return as soon as
    fewer do (the last trial of the budget ended: the worker can stop at once)."""
    from optuna.trial import TrialState

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        with interrupts.allowed():
            time.sleep(WAIT_STEP)
        # outside `allowed`: a Ctrl-C during the storage call is raised by the next sleep
        if len(study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))) < running:
            return


def run_worker(
    *,
    storage: str,
    study_name: str,
    data_dir: str | Path | None = None,
    data: PreparedData | None = None,
    n_trials: int | None = None,
    seed: int | None = None,
    num_threads: int = 0,
    heartbeat: int | None = DEFAULT_HEARTBEAT,
    space_path: str | Path | None = None,
    on_trial_end: Any = None,
    timeout: float | None = None,
) -> WorkerResult:
    """Join study ``study_name`` and run trials until its global budget is spent.

    Args:
        storage: storage URL (see :mod:`tuner.study.storage`).
        study_name: an existing study created by :func:`tuner.study.run_study`.
        data_dir: prepared split; default: the directory recorded in the study.
        data: an already loaded split (saves reloading it in-process).
        n_trials: global budget; default: the study's recorded budget.
        seed: sampler seed of this worker; default: the study's seed plus the number of trials
            it holds (deterministic, and different for workers joining at different times).
        num_threads: numba threads for this worker (0 = numba's default).
        heartbeat: seconds between heartbeats (RDB storages); None disables them.
        space_path: when given, must equal the study's space (else StorageError).
        on_trial_end: optional ``callback(study, frozen_trial)`` after each trial.
        timeout: seconds after which this worker starts no new trial (the running one
            finishes); None: until the budget is spent.

    Raises:
        StorageError: missing study, or other data / space / model than the study's.
    """
    import optuna

    from tuner._compat import optuna_optimize_logger
    from tuner.data import load_prepared
    from tuner.study.samplers import RangeLimitedSampler

    # the logger that reports failed trials (adding the same filter twice is a no-op)
    optimize_logger = optuna_optimize_logger()
    if optimize_logger is not None:
        optimize_logger.addFilter(_INTERRUPT_FILTER)
    probe = load_study(storage, study_name)
    attrs = dict(probe.user_attrs)
    model = attrs.get(ATTR_MODEL)
    if model is None or ATTR_SPACE not in attrs:
        raise StorageError(
            f"Study {study_name!r} was not created by 'tuner study' (no model/space attributes); "
            "create it with 'tuner study'."
        )
    objective_cls = get_objective(model)
    space = parse_space(
        attrs[ATTR_SPACE],
        known=objective_cls.parameters,
        model=model,
        source=f"study {study_name!r}",
    )
    if space_path is not None:
        mine = load_space(space_path, known=objective_cls.parameters, model=model)
        check_compatible(attrs, study_name=study_name, space=mine)
    if data is None:
        directory = data_dir if data_dir is not None else attrs.get(ATTR_DATA_DIR)
        if directory is None:
            raise ConfigError(f"Study {study_name!r} records no data directory; pass --data DIR.")
        data = load_prepared(directory)
    check_compatible(attrs, study_name=study_name, fingerprint=data.fingerprint)

    budget = int(n_trials if n_trials is not None else attrs.get(ATTR_BUDGET, 0))
    if budget < 1:
        raise ConfigError(f"The trial budget must be >= 1. Got {budget} instead.")
    base_seed = int(attrs.get(ATTR_SEED, 0))
    if seed is None:
        seed = base_seed + len(probe.get_trials(deepcopy=False))
    study = load_study(
        storage,
        study_name,
        heartbeat=heartbeat,
        sampler=RangeLimitedSampler(
            make_sampler(attrs.get(ATTR_SAMPLER, DEFAULT_SAMPLER), seed=seed), space
        ),
        pruner=make_pruner(attrs[ATTR_PRUNER]),
    )
    # Every worker scores the same validation subsample, so rungs compare like with like.
    objective = objective_cls(
        data,
        space,
        num_threads=num_threads,
        report_users=attrs.get(ATTR_REPORT_USERS),
        patience=attrs.get(ATTR_PATIENCE, DEFAULT_PATIENCE),
        min_gain=attrs.get(ATTR_MIN_GAIN, DEFAULT_MIN_GAIN),
        seed=base_seed,
    )

    interrupts = _Interrupts()

    def guarded(trial: optuna.trial.Trial) -> float:
        counted, _ = _budget_trials(study.get_trials(deepcopy=False))
        ahead = sum(1 for t in counted if t.number < trial.number)
        twin = _earlier_twin(trial, counted)
        if ahead >= budget or twin is not None:
            why = (
                f"the budget of {budget} trials was already spent"
                if ahead >= budget
                else f"trial {twin} is the same probe (enqueued by two workers)"
            )
            trial.set_user_attr("surplus", True)
            trial.set_user_attr("fail_reason", f"not run: {why}")
            raise _BudgetSpent(why)
        try:
            with interrupts.allowed():
                return objective(cast("optuna.trial.Trial", _StorageSafeTrial(trial, interrupts)))
        except KeyboardInterrupt:
            # Ctrl-C is not the trial's fault: it must not eat into the budget on resume.
            trial.set_user_attr("interrupted", True)
            trial.set_user_attr("fail_reason", "interrupted (Ctrl-C / SIGINT)")
            raise

    def room(study: optuna.Study) -> int:
        return budget - trial_counts(study).claimed

    callbacks: list[Any] = [EnqueueProbes(space, room)]
    if on_trial_end is not None:
        callbacks.append(on_trial_end)
    heartbeats = heartbeat is not None and not storage.startswith("journal://")
    poll = max(1.0, min(5.0, (heartbeat or 2) / 2))
    grace = 2.0 * float(heartbeat or 0)
    orphans: dict[int, float] = {}
    run = 0
    deadline = time.monotonic() + timeout if timeout is not None else None
    with interrupts:
        while deadline is None or time.monotonic() < deadline:
            interrupts.check()
            if heartbeats:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                    optuna.storages.fail_stale_trials(study)
                _fail_orphaned_trials(study, grace, orphans)
            counts = trial_counts(study)
            if counts.waiting > 0 or counts.claimed < budget:
                study.optimize(
                    guarded, n_trials=1, catch=(SolverError, _BudgetSpent), callbacks=callbacks
                )
                run += 1
            elif counts.running > 0 and heartbeats:
                # Another worker's trial may have died with it: wait until it ends or goes
                # stale (or, without a first heartbeat, orphaned); the stale checks above run
                # every `poll` seconds, the wait ends as soon as a running trial does.
                _wait_while_running(study, counts.running, poll, interrupts)
            else:
                break
        interrupts.check()
    return WorkerResult(trials_run=run, counts=trial_counts(study))


__all__ = [
    "ATTR_BUDGET",
    "ATTR_DATA_DIR",
    "ATTR_FINGERPRINT",
    "ATTR_METRIC",
    "ATTR_MIN_GAIN",
    "ATTR_MODEL",
    "ATTR_PATIENCE",
    "ATTR_PRUNER",
    "ATTR_REPORT_USERS",
    "ATTR_SAMPLER",
    "ATTR_SEED",
    "ATTR_SPACE",
    "METRIC",
    "TrialCounts",
    "WorkerResult",
    "check_compatible",
    "load_study",
    "run_worker",
    "trial_counts",
]
