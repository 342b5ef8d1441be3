"""Create or resume a study and run W local worker processes on it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuner.errors import ConfigError, StorageError
from tuner.objectives import DEFAULT_MIN_GAIN, DEFAULT_PATIENCE, METRIC, get_objective
from tuner.paths import tuner_home
from tuner.study.factories import DEFAULT_SAMPLER, check_sampler, pruner_config
from tuner.study.spaces import (
    check_enqueued,
    default_space_path,
    load_enqueue,
    load_space,
    parse_space,
)
from tuner.study.storage import DEFAULT_HEARTBEAT, describe, open_storage
from tuner.study.worker import (
    ATTR_BUDGET,
    ATTR_DATA_DIR,
    ATTR_FINGERPRINT,
    ATTR_METRIC,
    ATTR_MIN_GAIN,
    ATTR_MODEL,
    ATTR_PATIENCE,
    ATTR_PRUNER,
    ATTR_REPORT_USERS,
    ATTR_SAMPLER,
    ATTR_SEED,
    ATTR_SPACE,
    check_compatible,
    run_worker,
    trial_counts,
)

if TYPE_CHECKING:
    import optuna


def split_threads(workers: int, cores: int | None = None) -> int:
    """numba threads per worker: the cores shared evenly, at least one each."""
    cores = cores if cores is not None else (os.cpu_count() or 1)
    return max(1, cores // max(1, workers))


def run_study(
    *,
    data_dir: str | Path,
    model: str,
    storage: str,
    study_name: str,
    n_trials: int,
    workers: int = 1,
    space_path: str | Path | None = None,
    pruner: str = "sha",
    seed: int = 0,
    enqueue: str | Path | list[dict[str, Any]] | None = None,
    min_resource: int = 1,
    reduction_factor: int = 3,
    cores: int | None = None,
    heartbeat: int | None = DEFAULT_HEARTBEAT,
    report_users: int | None = 5000,
    sampler: str = DEFAULT_SAMPLER,
    patience: int | None = DEFAULT_PATIENCE,
    min_gain: float = DEFAULT_MIN_GAIN,
    show_progress: bool = False,
    timeout: float | None = None,
) -> optuna.Study:
    """Create or resume ``study_name`` and run trials until it holds ``n_trials`` finished ones.

    Args:
        data_dir: prepared split (``tuner prepare``).
        model: objective registry key ("als", "ials").
        storage: storage URL (see :mod:`tuner.study.storage`).
        study_name: created when missing, resumed when present (same data, model and space).
        n_trials: global budget of finished trials (COMPLETE + PRUNED + FAIL), all workers.
        workers: local worker processes; 1 runs in this process.
        space_path: search space TOML; default: the study's own space when resuming, else
            ``search_spaces/<model>.toml``.
        pruner: "sha", "hyperband", "median" or "none" (resource = solver iterations).
        seed: base seed; worker i samples with seed + i, the validation subsample uses seed.
        enqueue: JSON/TOML file (or list) of parameter dicts tried first, enqueued once.
        min_resource, reduction_factor: pruner settings.
        cores: cores to share between workers (default: all).
        heartbeat: heartbeat seconds on RDB storages (None: off).
        report_users: validation users scored for intermediate reports (None: all).
        sampler: one of :data:`tuner.study.factories.SAMPLERS`; stored in the study, so every
            worker that joins samples the same way.
        patience: a trial's fit stops after this many iterations without a new best
            validation MRR@100 (None or 0: runs every iteration); stored in the study.
        min_gain: an iteration resets ``patience`` only when it improves the best by at
            least this share of it (0.01: 1%; 0: any gain); stored in the study.
        show_progress: a progress bar over the budget on stderr.
        timeout: seconds after which no worker starts a new trial (running ones finish).

    Returns:
        The study, loaded after the workers ended.

    Raises:
        ConfigError, DataError, StorageError: as one-line messages.
    """
    import optuna

    from tuner.data import load_prepared

    if n_trials < 1:
        raise ConfigError(f"n_trials must be >= 1. Got {n_trials} instead.")
    if workers < 1:
        raise ConfigError(f"workers must be >= 1. Got {workers} instead.")
    if patience is not None and (isinstance(patience, bool) or patience < 0):
        raise ConfigError(
            f"--patience must be >= 0 (0 = run every iteration). Got {patience!r} instead."
        )
    patience = patience or None  # 0, as --patience 0: run every iteration
    if (
        isinstance(min_gain, bool)
        or not isinstance(min_gain, int | float)
        or not 0.0 <= min_gain < float("inf")
    ):
        raise ConfigError(
            f"--min-gain must be a share of the best >= 0 (0.01 = 1%, 0 = any gain counts). "
            f"Got {min_gain!r} instead."
        )
    objective_cls = get_objective(model)
    store = open_storage(storage, heartbeat=None, create=True)
    stored_space = None
    if study_name in optuna.get_all_study_names(storage=store):
        existing = optuna.load_study(study_name=study_name, storage=store)
        stored_space = existing.user_attrs.get(ATTR_SPACE)
    if space_path is None and stored_space is not None:
        # Resuming without --space continues with the study's own space.
        space = parse_space(stored_space, source=f"study {study_name!r}")
    else:
        space = load_space(
            space_path if space_path is not None else default_space_path(model),
            known=objective_cls.parameters,
            model=model,
        )
    trials_to_enqueue: list[dict[str, Any]] = []
    if enqueue is not None:
        if isinstance(enqueue, list):
            trials_to_enqueue, source = enqueue, "<list>"
        else:
            trials_to_enqueue, source = load_enqueue(enqueue), str(enqueue)
    sampler_name = check_sampler(sampler)
    pcfg = pruner_config(
        pruner,
        min_resource=min_resource,
        reduction_factor=reduction_factor,
        max_resource=_max_iterations(space),
    )
    data = load_prepared(data_dir)
    study = optuna.create_study(
        study_name=study_name, storage=store, direction="maximize", load_if_exists=True
    )
    if study.direction != optuna.study.StudyDirection.MAXIMIZE:
        raise StorageError(f"Study {study_name!r} minimises; use another --study-name.")
    attrs = study.user_attrs
    check_compatible(
        attrs, study_name=study_name, fingerprint=data.fingerprint, space=space, model=model
    )
    if trials_to_enqueue:
        check_enqueued(trials_to_enqueue, space, source)
    if ATTR_MODEL not in attrs:
        study.set_user_attr(ATTR_MODEL, model)
        study.set_user_attr(ATTR_FINGERPRINT, data.fingerprint)
        study.set_user_attr(ATTR_SPACE, space.text)
        study.set_user_attr(ATTR_METRIC, METRIC)
        study.set_user_attr(ATTR_SEED, seed)
        study.set_user_attr(ATTR_REPORT_USERS, report_users)
        # optuna-dashboard labels the objective by this name instead of "Objective 0".
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            study.set_metric_names([METRIC])
    # Latest wins for what may change between resumptions.
    study.set_user_attr(ATTR_BUDGET, n_trials)
    study.set_user_attr(ATTR_PRUNER, pcfg)
    study.set_user_attr(ATTR_SAMPLER, sampler_name)
    study.set_user_attr(ATTR_PATIENCE, patience)
    study.set_user_attr(ATTR_MIN_GAIN, float(min_gain))
    study.set_user_attr(ATTR_DATA_DIR, str(Path(data_dir).resolve()))
    for params in trials_to_enqueue:
        study.enqueue_trial(params, skip_if_exists=True)

    base_seed = int(study.user_attrs.get(ATTR_SEED, seed))
    threads = split_threads(workers, cores)
    progress = _Progress(study, n_trials, enabled=show_progress)
    verbosity = optuna.logging.get_verbosity()
    if show_progress:
        # The bar replaces Optuna's one line per trial.
        optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        if workers == 1:
            run_worker(
                storage=storage,
                study_name=study_name,
                data=data,
                n_trials=n_trials,
                seed=base_seed,
                num_threads=threads if cores is not None else 0,
                heartbeat=heartbeat,
                on_trial_end=lambda s, t: progress.update(),
                timeout=timeout,
            )
        else:
            del data
            _run_processes(
                storage=storage,
                study_name=study_name,
                data_dir=Path(data_dir).resolve(),
                n_trials=n_trials,
                workers=workers,
                base_seed=base_seed,
                threads=threads,
                heartbeat=heartbeat,
                progress=progress,
                timeout=timeout,
            )
    finally:
        progress.close()
        optuna.logging.set_verbosity(verbosity)
    return optuna.load_study(study_name=study_name, storage=open_storage(storage, heartbeat=None))


def _max_iterations(space: Any) -> int:
    for p in space.params:
        if p.name == "iterations":
            return int(p.high)
    return int(space.fixed.get("iterations", 5))


class _Progress:
    """A tqdm bar over the global budget, fed from the storage (works for any worker count)."""

    def __init__(self, study: optuna.Study, total: int, *, enabled: bool) -> None:
        self.study = study
        self.bar = None
        if enabled:
            from tqdm.auto import tqdm

            done = min(trial_counts(study).finished, total)
            self.bar = tqdm(total=total, initial=done, unit="trial", desc=study.study_name)

    def update(self) -> None:
        if self.bar is None:
            return
        counts = trial_counts(self.study)
        self.bar.n = min(counts.finished, self.bar.total)
        best = _best_value(self.study)
        self.bar.set_postfix(
            complete=counts.complete,
            pruned=counts.pruned,
            failed=counts.failed,
            best=f"{best:.4f}" if best is not None else "-",
        )

    def close(self) -> None:
        if self.bar is not None:
            self.update()
            self.bar.close()


def _best_value(study: optuna.Study) -> float | None:
    try:
        return float(study.best_value)
    except ValueError:
        return None


def _run_processes(
    *,
    storage: str,
    study_name: str,
    data_dir: Path,
    n_trials: int,
    workers: int,
    base_seed: int,
    threads: int,
    heartbeat: int | None,
    progress: _Progress,
    timeout: float | None,
) -> None:
    """Start ``workers`` ``tuner worker`` processes, wait for all, explain any failure."""
    log_dir = tuner_home() / "logs" / study_name
    log_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    # BLAS stays single-threaded: the numba kernels own the cores.
    env.update(
        NUMBA_NUM_THREADS=str(threads),
        OPENBLAS_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        OMP_NUM_THREADS="1",
    )
    procs: list[tuple[subprocess.Popen[bytes], Path]] = []
    try:
        for i in range(workers):
            log_path = log_dir / f"worker-{i}.log"
            cmd = [
                sys.executable, "-m", "tuner", "worker",
                "--storage", storage,
                "--study-name", study_name,
                "--data", str(data_dir),
                "--n-trials", str(n_trials),
                "--seed", str(base_seed + i),
                "--threads", str(threads),
                "--heartbeat", str(heartbeat if heartbeat is not None else 0),
                "--quiet",
            ]  # fmt: skip
            if timeout is not None:
                cmd += ["--timeout-minutes", str(timeout / 60.0)]
            with open(log_path, "wb") as log_file:
                proc = subprocess.Popen(
                    cmd,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    env=env,
                    stdin=subprocess.DEVNULL,
                )
            procs.append((proc, log_path))
        # Waiting on the processes themselves (not a sleep between polls) ends the study the
        # moment its last worker exits; the bar moves once a second meanwhile.
        for proc, _ in procs:
            while True:
                try:
                    proc.wait(timeout=1.0)
                    break
                except subprocess.TimeoutExpired:
                    progress.update()
    except BaseException:
        for p, _ in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        for p, _ in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        raise
    failures = [(i, p.returncode, path) for i, (p, path) in enumerate(procs) if p.returncode]
    if failures:
        counts = trial_counts(progress.study)
        i, code, path = failures[0]
        lines = [ln for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
        last = lines[-1] if lines else "(no output)"
        if counts.finished < n_trials:
            raise StorageError(
                f"{len(failures)} of {workers} workers on study {study_name!r} in "
                f"{describe(storage)!r} failed (worker {i} exit status {code}: {last}); "
                f"{counts.finished}/{n_trials} trials finished. Logs: {path.parent}."
            )
        print(
            f"tuner study: note: worker {i} exited with status {code} ({last}); "
            f"the budget was reached anyway. Logs: {path.parent}.",
            file=sys.stderr,
        )
