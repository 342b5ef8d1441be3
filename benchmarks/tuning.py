"""tuner's study against the plain Optuna loop a new user would write (figures, not a test).

Both sides search the same prepared split (``tuner.data.prepare``, split seeds ``--seeds``) on
one worker with the same threads, and both are scored by tuner's evaluator (MRR@100).

The plain loop: Optuna ``TPESampler(seed=0)``, an in-memory study, no pruning; each trial fits
``implicit.cpu.als.AlternatingLeastSquares`` on train with k 16-256 (log), lambda 1e-3..1e3
(log), 3-20 iterations and alpha 0.1-100 (log), and returns the validation MRR@100 after its
last iteration. Its test figure refits the best parameters on train + validation.

tuner: ``tuner.study.run_study`` in this process on a fresh SQLite file, with the study
defaults except the search space (``--space``, default ``search_spaces/ials-wide.toml``) and
the flags passed through (``--pruner``, ``--min-resource``, ``--reduction-factor``,
``--sampler``, ``--patience``, ``--min-gain``, ``--enqueue``); its test figure comes from
``tuner.study.export_study`` (refit on train + validation). Two budgets: the loop's number of
trials, and the loop's wall time (``timeout`` = the loop's seconds on that split, no trial
cap).

Time to quality: the seconds at which the running best validation MRR@100 of tuner's
same-time run first reaches the loop's final best, over the loop's total seconds. Targets
(issue 14), per dataset: same wall time, test >= 1.10x the loop's; same trials, test >= 1.0x
in <= 0.5x the time; time to quality <= 0.25x.

Threads: BLAS at 1 (``OPENBLAS_NUM_THREADS=1``), numba at 2 (``NUMBA_NUM_THREADS``, an
explicit value in the environment is respected), implicit with numba's thread count. Both
sides are warmed up first (implicit's first fit; tuner's kernels compiled or loaded from
numba's cache by a tiny study), so compilation is not in the timed figures.

    .venv/bin/python benchmarks/tuning.py --json out/bench-tuning.json \\
        --html out/bench-tuning.html
    .venv/bin/python benchmarks/tuning.py --datasets movielens --seeds 1 --n-trials 10
"""

from __future__ import annotations

import os

if __name__ == "__main__":
    # Before numpy/numba are imported: BLAS single-threaded, numba at 2 threads. Left alone
    # when imported (the test), so a test process's environment is not changed.
    for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
        os.environ[_var] = "1"
    os.environ.setdefault("NUMBA_NUM_THREADS", "2")

import argparse
import datetime as dt
import inspect
import json
import math
import platform
import sys
import tempfile
import time
import tomllib
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import scipy.sparse as sp

from tuner.data import DataWarning, PreparedData, load_prepared, prepare
from tuner.errors import TunerError
from tuner.metrics import evaluate
from tuner.objectives import ATTR_PROBE
from tuner.study import export_study, run_study, trial_counts
from tuner.study.probes import ATTR_PROBE_OF

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SPACE = REPO / "search_spaces" / "ials-wide.toml"
DEFAULT_DATA_ROOT = (REPO / ".." / "shared" / "data").resolve()
K = 100
LOOP_SEED = 0
SAME_TIME_TRIALS = 100_000
WARMUP_SCALE = 0.01
# TPE's first ten trials are random draws, so a ten-trial study touches every branch of the
# space (categorical choices, both solvers' kernels) before anything is timed.
WARMUP_TRIALS = 10

TARGETS = {
    "same_time_test": 1.10,
    "same_trials_test": 1.0,
    "same_trials_time": 0.5,
    "time_to_quality": 0.25,
}


@dataclass(frozen=True)
class Dataset:
    """One benchmark dataset: how ``tuner.data.prepare`` reads it."""

    name: str
    label: str
    source: str
    relpath: str | None
    options: dict[str, Any] = field(default_factory=dict)


DATASETS = {
    "citeulike": Dataset(
        "citeulike", "CiteULike-a", "lists", "citeulike-a/users.dat", {"lists_format": "count"}
    ),
    "movielens": Dataset(
        "movielens",
        "MovieLens latest-small, rating >= 4",
        "interactions",
        "ml-latest-small/ratings.csv",
        {"min_rating": 4.0},
    ),
    "synthetic": Dataset("synthetic", "synthetic (Zen-shaped)", "synthetic", None),
}


@dataclass
class SideResult:
    """One search on one split: the loop, or a tuner study under one budget.

    ``curve`` holds (seconds since the search started, best validation MRR@100 so far) at each
    completed trial, in completion order.
    """

    side: str
    seconds: float
    n_finished: int
    n_complete: int
    n_pruned: int
    best_val_mrr: float | None
    val_mrr_se: float | None
    test_mrr: float | None
    test_mrr_se: float | None
    best_params: dict[str, Any]
    refit_seconds: float | None
    curve: list[tuple[float, float]]
    #: tuner's probes (``tuner.study.probes``), in trial order: the value probed, the trial
    #: doubled, the trial's value (None unless complete) and seconds.
    probes: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class SeedResult:
    """Both sides on the split prepared with one seed."""

    dataset: str
    seed: int
    data: dict[str, Any]
    loop: SideResult
    same_trials: SideResult
    same_time: SideResult
    time_to_quality_seconds: float | None
    time_to_quality_ratio: float | None


# ---------------------------------------------------------------------------- shared helpers


def _best_curve(trials: list[optuna.trial.FrozenTrial], started: dt.datetime) -> list:
    """Running best value of the completed trials against seconds since ``started``."""
    done = sorted(
        (t for t in trials if t.state == optuna.trial.TrialState.COMPLETE and t.value is not None),
        key=lambda t: t.datetime_complete,
    )
    curve: list[tuple[float, float]] = []
    best = -math.inf
    for t in done:
        best = max(best, float(t.value))
        curve.append(((t.datetime_complete - started).total_seconds(), best))
    return curve


def _first_reach(curve: list[tuple[float, float]], target: float) -> float | None:
    """Seconds at which the running best first reaches ``target`` (None: never)."""
    return next((s for s, best in curve if best >= target), None)


def _mean_se(values: list[float | None]) -> tuple[float | None, float | None]:
    """Mean and standard error (ddof=1) over seeds; None where there are too few values."""
    xs = np.array([v for v in values if v is not None and math.isfinite(v)], dtype=np.float64)
    if xs.size == 0:
        return None, None
    se = float(xs.std(ddof=1) / math.sqrt(xs.size)) if xs.size > 1 else None
    return float(xs.mean()), se


def _ratio(num: float | None, den: float | None) -> float | None:
    return num / den if num is not None and den else None


def _prepare(
    ds: Dataset, root: Path, out: Path, seed: int, scale: float, val_frac: float = 0.2
) -> dict[str, Any]:
    """Prepare ``ds`` with split seed ``seed`` into ``out``; returns the manifest.

    The test users depend on the seed alone, so runs with another ``val_frac`` score their
    configurations on the same test users.
    """
    path = None if ds.relpath is None else root / ds.relpath
    extra = {"scale": scale} if ds.source == "synthetic" else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        return prepare(
            ds.source, out, path=path, seed=seed, val_frac=val_frac, **extra, **ds.options
        )


# ---------------------------------------------------------------------------- the plain loop


def _fit_implicit(
    user_items: sp.csr_matrix, params: dict[str, Any], threads: int
) -> tuple[np.ndarray, np.ndarray]:
    """Fit implicit's CPU ALS as the loop's user would; (n_users, k), (n_items, k) factors."""
    from implicit.cpu.als import AlternatingLeastSquares

    model = AlternatingLeastSquares(
        factors=params["factors"],
        regularization=params["regularization"],
        alpha=params["alpha"],
        iterations=params["iterations"],
        random_state=LOOP_SEED,
        num_threads=threads,
        calculate_training_loss=False,
    )
    model.fit(user_items, show_progress=False)
    user_factors, item_factors = np.asarray(model.user_factors), np.asarray(model.item_factors)
    n_users, n_items = user_items.shape
    if (
        user_factors.shape[0] != n_users
        or item_factors.shape[0] != n_items
        or user_factors.shape[1] != item_factors.shape[1]
    ):
        raise RuntimeError(
            f"implicit returned factors {user_factors.shape} and {item_factors.shape} for a "
            f"{user_items.shape} matrix; expected (n_users, k) and (n_items, k)."
        )
    return user_factors, item_factors


def _loop_objective(data: PreparedData, threads: int) -> Any:
    def objective(trial: optuna.Trial) -> float:
        params = {
            "factors": trial.suggest_int("factors", 16, 256, log=True),
            "regularization": trial.suggest_float("regularization", 1e-3, 1e3, log=True),
            "iterations": trial.suggest_int("iterations", 3, 20),
            "alpha": trial.suggest_float("alpha", 0.1, 100.0, log=True),
        }
        user_factors, item_factors = _fit_implicit(data.train, params, threads)
        val = evaluate(user_factors, item_factors, data.train, data.val, k=K)
        trial.set_user_attr("val_mrr_se", getattr(val, "mrr_se", None))
        return float(val.mrr)

    return objective


def run_loop(data_dir: Path, n_trials: int, threads: int) -> SideResult:
    """The plain loop on one split: search, then refit the best on train + validation."""
    started = dt.datetime.now()
    t0 = time.perf_counter()
    data = load_prepared(data_dir)
    study = optuna.create_study(
        direction="maximize", sampler=optuna.samplers.TPESampler(seed=LOOP_SEED)
    )
    study.optimize(_loop_objective(data, threads), n_trials=n_trials)
    seconds = time.perf_counter() - t0

    best = study.best_trial
    t0 = time.perf_counter()
    train_val = data.train_val()
    user_factors, item_factors = _fit_implicit(train_val, best.params, threads)
    test = evaluate(user_factors, item_factors, train_val, data.test, k=K)
    return SideResult(
        side="loop",
        seconds=seconds,
        n_finished=len(study.trials),
        n_complete=len(study.trials),
        n_pruned=0,
        best_val_mrr=float(best.value),
        val_mrr_se=best.user_attrs.get("val_mrr_se"),
        test_mrr=float(test.mrr),
        test_mrr_se=getattr(test, "mrr_se", None),
        best_params=dict(best.params),
        refit_seconds=time.perf_counter() - t0,
        curve=_best_curve(study.trials, started),
    )


# ---------------------------------------------------------------------------- tuner


def run_tuner(
    data_dir: Path,
    workdir: Path,
    *,
    side: str,
    model: str,
    n_trials: int,
    timeout: float | None,
    study_kwargs: dict[str, Any],
) -> SideResult:
    """tuner's study on one split under one budget, then its export (refit for the test)."""
    storage = f"sqlite:///{workdir / side}.db"
    started = dt.datetime.now()
    t0 = time.perf_counter()
    study = run_study(
        data_dir=data_dir,
        model=model,
        storage=storage,
        study_name=side,
        n_trials=n_trials,
        timeout=timeout,
        **study_kwargs,
    )
    seconds = time.perf_counter() - t0
    counts = trial_counts(study)
    best: dict[str, Any] = {}
    if counts.complete:
        best = export_study(
            storage=storage, study_name=side, out=workdir / f"{side}-export", data_dir=data_dir
        )
    return SideResult(
        side=side,
        seconds=seconds,
        n_finished=counts.complete + counts.pruned + counts.failed,
        n_complete=counts.complete,
        n_pruned=counts.pruned,
        best_val_mrr=float(study.best_value) if counts.complete else None,
        val_mrr_se=best.get("val_mrr_se"),
        test_mrr=best.get("test_mrr_at_100"),
        test_mrr_se=best.get("test_mrr_se"),
        best_params=dict(best.get("params", {})),
        refit_seconds=best.get("refit_seconds"),
        curve=_best_curve(study.trials, started),
        probes=_probes(study.trials),
    )


def _probes(trials: list[optuna.trial.FrozenTrial]) -> list[dict[str, Any]]:
    """What the study's probes cost and scored (:attr:`SideResult.probes`)."""
    return [
        {
            "probe": t.user_attrs[ATTR_PROBE],
            "probe_of": t.user_attrs.get(ATTR_PROBE_OF),
            "value": t.value,
            "seconds": t.duration.total_seconds() if t.duration is not None else None,
        }
        for t in trials
        if t.user_attrs.get(ATTR_PROBE)
    ]


def warm_up(workdir: Path, model: str, threads: int, study_kwargs: dict[str, Any]) -> float:
    """Compile (or load) both sides' code on a tiny split, outside the timed figures."""
    t0 = time.perf_counter()
    data_dir = workdir / "warmup-data"
    _prepare(DATASETS["synthetic"], DEFAULT_DATA_ROOT, data_dir, seed=0, scale=WARMUP_SCALE)
    data = load_prepared(data_dir)
    params = {"factors": 16, "regularization": 1.0, "iterations": 2, "alpha": 1.0}
    user_factors, item_factors = _fit_implicit(data.train, params, threads)
    evaluate(user_factors, item_factors, data.train, data.val, k=K)
    run_study(
        data_dir=data_dir,
        model=model,
        storage=f"sqlite:///{workdir / 'warmup'}.db",
        study_name="warmup",
        n_trials=WARMUP_TRIALS,
        **study_kwargs,
    )
    return time.perf_counter() - t0


def run_seed(
    ds: Dataset,
    seed: int,
    args: argparse.Namespace,
    workdir: Path,
    model: str,
    threads: int,
    study_kwargs: dict[str, Any],
) -> SeedResult:
    """Prepare one split, run the loop, then tuner at the loop's trials and at its seconds."""
    data_dir = workdir / "data"
    manifest = _prepare(
        ds, args.data_root, data_dir, seed=seed, scale=args.synthetic_scale, val_frac=args.val_frac
    )
    loop = run_loop(data_dir, args.n_trials, threads)
    tuner_kw: dict[str, Any] = {"model": model, "study_kwargs": study_kwargs}
    same_trials = run_tuner(
        data_dir, workdir, side="same_trials", n_trials=args.n_trials, timeout=None, **tuner_kw
    )
    same_time = run_tuner(
        data_dir,
        workdir,
        side="same_time",
        n_trials=SAME_TIME_TRIALS,
        timeout=loop.seconds,
        **tuner_kw,
    )
    reach = (
        _first_reach(same_time.curve, loop.best_val_mrr) if loop.best_val_mrr is not None else None
    )
    return SeedResult(
        dataset=ds.name,
        seed=seed,
        data={k: manifest[k] for k in ("n_users", "n_items", "n_train", "n_val", "n_test")},
        loop=loop,
        same_trials=same_trials,
        same_time=same_time,
        time_to_quality_seconds=reach,
        time_to_quality_ratio=_ratio(reach, loop.seconds),
    )


# ---------------------------------------------------------------------------- figures


def summarize(results: list[SeedResult]) -> dict[str, Any]:
    """Means and standard errors over seeds, the tuner/loop ratios and the targets met."""
    out: dict[str, Any] = {"seeds": [r.seed for r in results]}
    for side in ("loop", "same_trials", "same_time"):
        runs = [getattr(r, side) for r in results]
        for key in ("test_mrr", "best_val_mrr", "seconds", "n_finished"):
            mean, se = _mean_se([getattr(run, key) for run in runs])
            out[f"{side}_{key}_mean"], out[f"{side}_{key}_se"] = mean, se
    for side in ("same_trials", "same_time"):
        for key in ("test_mrr", "seconds"):
            out[f"{side}_{key}_ratio"] = _ratio(out[f"{side}_{key}_mean"], out[f"loop_{key}_mean"])
    ttq = [r.time_to_quality_ratio for r in results]
    out["time_to_quality_ratios"] = ttq
    out["time_to_quality_reached"] = sum(x is not None for x in ttq)
    out["time_to_quality_ratio"] = _mean_se(ttq)[0] if all(x is not None for x in ttq) else None

    def at_least(x: float | None, target: float) -> bool:
        return x is not None and x >= target

    def at_most(x: float | None, target: float) -> bool:
        return x is not None and x <= target

    out["targets"] = {
        "same_time_test": at_least(out["same_time_test_mrr_ratio"], TARGETS["same_time_test"]),
        "same_trials_test": at_least(
            out["same_trials_test_mrr_ratio"], TARGETS["same_trials_test"]
        ),
        "same_trials_time": at_most(out["same_trials_seconds_ratio"], TARGETS["same_trials_time"]),
        "time_to_quality": at_most(out["time_to_quality_ratio"], TARGETS["time_to_quality"]),
    }
    return out


def _fmt(mean: float | None, se: float | None, digits: int) -> str:
    if mean is None:
        return "-"
    return f"{mean:.{digits}f}" + (f" ± {se:.{digits}f}" if se is not None else "")


def _x(ratio: float | None) -> str:
    return f"{ratio:.2f}x" if ratio is not None else "-"


def table(summaries: dict[str, dict[str, Any]], n_trials: int) -> str:
    """One markdown table: per dataset the figures, the ratio, the target and whether it is met."""
    lines = [
        "| data | figure | loop | tuner | tuner / loop | target | met |",
        "| --- | --- | ---: | ---: | ---: | --- | --- |",
    ]
    yes = {True: "yes", False: "no"}
    for name, s in summaries.items():
        met = s["targets"]

        def row(*cells: str, name: str = name) -> None:
            lines.append("| " + " | ".join((name, *cells)) + " |")

        for side, what in (
            ("same_trials", f"same trials ({n_trials})"),
            ("same_time", "same time"),
        ):
            row(
                f"best val MRR@100, {what}",
                _fmt(s["loop_best_val_mrr_mean"], s["loop_best_val_mrr_se"], 4),
                _fmt(s[f"{side}_best_val_mrr_mean"], s[f"{side}_best_val_mrr_se"], 4),
                _x(_ratio(s[f"{side}_best_val_mrr_mean"], s["loop_best_val_mrr_mean"])),
                "",
                "",
            )
        row(
            f"test MRR@100, same trials ({n_trials})",
            _fmt(s["loop_test_mrr_mean"], s["loop_test_mrr_se"], 4),
            _fmt(s["same_trials_test_mrr_mean"], s["same_trials_test_mrr_se"], 4),
            _x(s["same_trials_test_mrr_ratio"]),
            f">= {TARGETS['same_trials_test']:.2f}x",
            yes[met["same_trials_test"]],
        )
        row(
            "seconds, same trials",
            _fmt(s["loop_seconds_mean"], s["loop_seconds_se"], 1),
            _fmt(s["same_trials_seconds_mean"], s["same_trials_seconds_se"], 1),
            _x(s["same_trials_seconds_ratio"]),
            f"<= {TARGETS['same_trials_time']:.2f}x",
            yes[met["same_trials_time"]],
        )
        row(
            "test MRR@100, same time",
            _fmt(s["loop_test_mrr_mean"], s["loop_test_mrr_se"], 4),
            _fmt(s["same_time_test_mrr_mean"], s["same_time_test_mrr_se"], 4),
            _x(s["same_time_test_mrr_ratio"]),
            f">= {TARGETS['same_time_test']:.2f}x",
            yes[met["same_time_test"]],
        )
        row(
            "seconds (trials), same time",
            f"{_fmt(s['loop_seconds_mean'], None, 1)} ({s['loop_n_finished_mean']:.0f})",
            f"{_fmt(s['same_time_seconds_mean'], None, 1)} ({s['same_time_n_finished_mean']:.0f})",
            _x(s["same_time_seconds_ratio"]),
            "",
            "",
        )
        per_seed = ", ".join(
            _x(x) if x is not None else "not reached" for x in s["time_to_quality_ratios"]
        )
        reached = s["time_to_quality_reached"]
        ttq = _x(s["time_to_quality_ratio"]) if s["time_to_quality_ratio"] is not None else ""
        row(
            "time to the loop's best val MRR (per seed)",
            _fmt(s["loop_seconds_mean"], s["loop_seconds_se"], 1),
            f"{per_seed} ({reached}/{len(s['seeds'])} reached)",
            ttq or "not reached",
            f"<= {TARGETS['time_to_quality']:.2f}x",
            yes[met["time_to_quality"]],
        )
    return "\n".join(lines)


def _seed_line(r: SeedResult) -> str:
    """One progress line per split: each side's seconds, best validation and test MRR@100."""
    reach = (
        f"reached after {r.time_to_quality_seconds:.1f} s"
        if r.time_to_quality_seconds is not None
        else "not reached"
    )
    sides = []
    for label, run in (
        ("loop", r.loop),
        ("tuner same trials", r.same_trials),
        ("same time", r.same_time),
    ):
        probes = ""
        if run.probes:
            took = sum(p["seconds"] or 0.0 for p in run.probes)
            probes = f", {len(run.probes)} probes {took:.1f} s"
        sides.append(
            f"{label} {run.seconds:.1f} s ({run.n_finished} trials{probes}) val "
            f"{_fmt(run.best_val_mrr, None, 4)} test {_fmt(run.test_mrr, None, 4)}"
        )
    return (
        f"{r.dataset} seed {r.seed} ({r.data['n_users']:,} x {r.data['n_items']:,}): "
        + " | ".join(sides)
        + f"; the loop's best val {reach}"
    )


def write_html(path: Path, results: dict[str, list[SeedResult]]) -> None:
    """Best validation MRR@100 against seconds, both sides, one subplot per dataset."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    names = list(results)
    fig = make_subplots(rows=len(names), cols=1, subplot_titles=[DATASETS[n].label for n in names])
    colours = {"loop": "#636efa", "same_time": "#ef553b"}
    labels = {"loop": "plain loop", "same_time": "tuner (same wall time)"}
    dashes = ("solid", "dash", "dot", "dashdot", "longdash")
    for row, name in enumerate(names, 1):
        for i, r in enumerate(results[name]):
            for side in ("loop", "same_time"):
                run: SideResult = getattr(r, side)
                if not run.curve:
                    continue
                xs, ys = zip(*run.curve, strict=True)
                # Extend the last best to the end of the search, so each line spans its time.
                fig.add_trace(
                    go.Scatter(
                        x=[*xs, run.seconds],
                        y=[*ys, ys[-1]],
                        mode="lines+markers",
                        line={"shape": "hv", "color": colours[side], "dash": dashes[i % 5]},
                        name=f"{labels[side]}, seed {r.seed}",
                        legendgroup=f"{side}-{r.seed}",
                        showlegend=row == 1,
                    ),
                    row=row,
                    col=1,
                )
        fig.update_xaxes(title_text="seconds", row=row, col=1)
        fig.update_yaxes(title_text="best val MRR@100", row=row, col=1)
    fig.update_layout(
        title="Best validation MRR@100 against wall time: tuner vs the plain loop",
        height=380 * len(names),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.write_html(path, include_plotlyjs=True)


# ---------------------------------------------------------------------------- main


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="example: .venv/bin/python benchmarks/tuning.py --datasets movielens --json b.json",
    )
    p.add_argument("--datasets", default=",".join(DATASETS), help="comma-separated subset")
    p.add_argument("--seeds", default="1,2,3", help="split seeds, comma-separated")
    p.add_argument("--n-trials", type=int, default=30, help="the loop's trials (default: 30)")
    p.add_argument("--synthetic-scale", type=float, default=0.1)
    p.add_argument(
        "--val-frac",
        type=float,
        default=0.2,
        help="validation users' share of the split, both sides (default: 0.2, prepare's)",
    )
    p.add_argument("--data-root", type=Path, default=DEFAULT_DATA_ROOT)
    p.add_argument("--space", type=Path, default=DEFAULT_SPACE, help="tuner's search space")
    p.add_argument("--pruner", help="passed to run_study (default: the study's)")
    p.add_argument("--min-resource", type=int, help="passed to run_study")
    p.add_argument("--reduction-factor", type=int, help="passed to run_study")
    p.add_argument("--sampler", help="passed to run_study (needs a tuner with sampler=)")
    p.add_argument("--patience", type=int, help="passed to run_study (0: every iteration)")
    p.add_argument("--min-gain", type=float, help="passed to run_study (0.01: 1%%)")
    p.add_argument("--enqueue", type=Path, help="passed to run_study: points tried first")
    p.add_argument(
        "--study-seed",
        dest="seed",
        type=int,
        help="passed to run_study as seed: tuner's sampler and initialisation (default 0; the "
        "loop keeps TPE seed 0). Another seed shows how far a change of path alone moves tuner",
    )
    p.add_argument("--json", type=Path, help="write every figure here")
    p.add_argument("--html", type=Path, help="write the best-value-over-time plot here")
    args = p.parse_args(argv)
    args.datasets = [d for d in args.datasets.split(",") if d]
    unknown = [d for d in args.datasets if d not in DATASETS]
    if unknown or not args.datasets:
        p.error(f"--datasets: unknown {', '.join(unknown) or '(none)'}; use {', '.join(DATASETS)}")
    try:
        args.seeds = [int(s) for s in args.seeds.split(",") if s]
    except ValueError:
        p.error(f"--seeds must be comma-separated integers; got {args.seeds!r}")
    if args.n_trials < 1:
        p.error(f"--n-trials must be >= 1; got {args.n_trials}")
    if args.sampler is not None and "sampler" not in inspect.signature(run_study).parameters:
        p.error("--sampler: this tuner's run_study takes no sampler= yet")
    return args


def _study_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """run_study's keywords from the flags given; the others keep the study's defaults."""
    kw: dict[str, Any] = {"space_path": args.space}
    for flag in (
        "pruner",
        "min_resource",
        "reduction_factor",
        "sampler",
        "patience",
        "min_gain",
        "enqueue",
        "seed",
    ):
        if getattr(args, flag) is not None:
            kw[flag] = getattr(args, flag)
    return kw


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    for name in args.datasets:
        ds = DATASETS[name]
        if ds.relpath is not None and not (args.data_root / ds.relpath).is_file():
            others = ",".join(d for d in args.datasets if d != name) or "synthetic"
            print(
                f"tuning.py: error: {ds.label} data not found at {args.data_root / ds.relpath}; "
                f"pass --data-root DIR, or skip it with --datasets {others}",
                file=sys.stderr,
            )
            return 2
    if not args.space.is_file():
        print(f"tuning.py: error: search space {args.space} not found", file=sys.stderr)
        return 2
    model = tomllib.loads(args.space.read_text(encoding="utf-8")).get("model", "ials")
    # Quiet Optuna for the run only: the test calls main() inside a pytest process.
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return _benchmark(args, model, _study_kwargs(args))
    except TunerError as exc:
        # e.g. an unknown --pruner or --sampler name, refused by run_study
        print(f"tuning.py: error: {exc}", file=sys.stderr)
        return 2
    finally:
        optuna.logging.set_verbosity(verbosity)


def _benchmark(args: argparse.Namespace, model: str, study_kwargs: dict[str, Any]) -> int:
    """Warm up, run every dataset and seed, print the table, write the JSON and HTML."""
    import numba

    threads = numba.get_num_threads()
    passed = "".join(f", {k}={v}" for k, v in study_kwargs.items() if k != "space_path")
    print(
        f"tuner (space {args.space.name}, study defaults{passed}) "
        f"vs the plain loop (implicit ALS, TPE seed {LOOP_SEED}, no pruning, {args.n_trials} "
        f"trials); seeds {','.join(map(str, args.seeds))}",
        flush=True,
    )
    print(
        f"threads: OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', '(unset)')}, "
        f"NUMBA_NUM_THREADS={os.environ.get('NUMBA_NUM_THREADS', '(unset)')} (numba uses "
        f"{threads}), implicit num_threads={threads}; one worker per side",
        flush=True,
    )

    results: dict[str, list[SeedResult]] = {}
    with tempfile.TemporaryDirectory(prefix="tuner-bench-tuning-") as tmp:
        warm = warm_up(Path(tmp) / "warmup", model, threads, study_kwargs)
        print(f"warm-up (both sides, not timed below): {warm:.1f} s", flush=True)
        for name in args.datasets:
            results[name] = []
            for seed in args.seeds:
                with tempfile.TemporaryDirectory(prefix=f"{name}-{seed}-", dir=tmp) as work:
                    r = run_seed(
                        DATASETS[name], seed, args, Path(work), model, threads, study_kwargs
                    )
                results[name].append(r)
                print(_seed_line(r), flush=True)
    summaries = {name: summarize(rs) for name, rs in results.items()}
    print()
    print(table(summaries, args.n_trials))

    if args.json:
        import implicit

        figures = {
            "command": " ".join([Path(sys.executable).name, *sys.argv]),
            "settings": {
                "n_trials": args.n_trials,
                "seeds": args.seeds,
                "synthetic_scale": args.synthetic_scale,
                "space": str(args.space),
                "model": model,
                "run_study_kwargs": {k: str(v) for k, v in study_kwargs.items()},
                "targets": TARGETS,
            },
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "implicit": implicit.__version__,
                "optuna": optuna.__version__,
                "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"),
                "NUMBA_NUM_THREADS": os.environ.get("NUMBA_NUM_THREADS"),
                "numba_threads": threads,
                "implicit_threads": threads,
            },
            "warmup_seconds": warm,
            "datasets": {
                name: {
                    "label": DATASETS[name].label,
                    "summary": summaries[name],
                    "per_seed": [asdict(r) for r in rs],
                }
                for name, rs in results.items()
            },
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2, default=str) + "\n", encoding="utf-8")
        print(f"\nfigures written to {args.json}")
    if args.html:
        write_html(args.html, results)
        print(f"plot written to {args.html}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
