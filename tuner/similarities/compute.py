"""All methods on one prepared split: neighbours, comparison, CSV / JSON / HTML outputs."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tuner.errors import ConfigError
from tuner.similarities._common import Neighbors, Progress
from tuner.similarities.slim import DEFAULT_ALPHA, DEFAULT_L1_RATIO

METHODS: tuple[str, ...] = ("cosine", "slim", "als", "ials")
FACTOR_METHODS = ("als", "ials")
# rows per CSV write: bounds the memory of the name columns at full size
CSV_CHUNK = 1_000_000


class ProgressLines:
    """A ``progress(method, done, total)`` callback that writes one line per ~10% of a
    method's anchors: items done, seconds spent and an estimate of the seconds left.

    A method's clock starts at its first call: call it with ``done=0`` when the method starts
    (the methods themselves report only when a chunk of anchors is done).
    """

    def __init__(self, write: Callable[[str], None]) -> None:
        self.write = write
        self.last: dict[str, int] = {}
        self.start: dict[str, float] = {}

    def __call__(self, method: str, done: int, total: int) -> None:
        now = time.perf_counter()
        self.start.setdefault(method, now)
        step = int(10 * done / max(total, 1))
        if step > self.last.get(method, -1) and (step > 0 or done == total):
            self.last[method] = step
            spent = now - self.start[method]
            share = 100 * done / max(total, 1)
            line = f"{method}: {done:,}/{total:,} items ({share:.0f}%), {spent:.0f} s"
            if 0 < done < total:
                line += f", about {spent * (total - done) / done:.0f} s left"
            self.write(line)


def check_methods(methods: Sequence[str]) -> tuple[str, ...]:
    """Validated, de-duplicated method names in the given order."""
    out: list[str] = []
    for m in methods:
        m = m.strip().lower()
        if m not in METHODS:
            raise ConfigError(
                f"Unknown similarity method {m!r}. Valid methods: {', '.join(METHODS)}."
            )
        if m not in out:
            out.append(m)
    if not out:
        raise ConfigError(f"No similarity method given. Valid methods: {', '.join(METHODS)}.")
    return tuple(out)


def write_neighbors_csv(path: Path, nb: Neighbors, items: pd.DataFrame) -> int:
    """``neighbors_<method>.csv``: item, rank, neighbour, score, item_name, neighbour_name
    (item and neighbour as raw ids, rank from 1). Returns the number of rows."""
    raw = items["raw_id"].to_numpy()
    names = items["name"].astype(str).to_numpy()
    rows, ranks = np.nonzero(nb.indices >= 0)
    nbrs = nb.indices[rows, ranks]
    scores = nb.scores[rows, ranks]
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write("item,rank,neighbour,score,item_name,neighbour_name\n")
        for lo in range(0, rows.size, CSV_CHUNK):
            sl = slice(lo, lo + CSV_CHUNK)
            pd.DataFrame(
                {
                    "item": raw[rows[sl]],
                    "rank": ranks[sl] + 1,
                    "neighbour": raw[nbrs[sl]],
                    "score": scores[sl],
                    "item_name": names[rows[sl]],
                    "neighbour_name": names[nbrs[sl]],
                }
            ).to_csv(fh, header=False, index=False, float_format="%.6g")
    return int(rows.size)


def compute_all(
    data: Any,
    *,
    als_params: dict[str, Any] | None,
    ials_params: dict[str, Any] | None,
    out: str | Path,
    fitted: Mapping[str, Any] | None = None,
    seeds: Mapping[str, int] | None = None,
    top_k: int = 100,
    methods: Sequence[str] = METHODS,
    anchors: Sequence[str | int] = (),
    num_threads: int = 0,
    slim_alpha: float = DEFAULT_ALPHA,
    slim_l1_ratio: float = DEFAULT_L1_RATIO,
    eval_k: int = 100,
    progress: Progress | None = None,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Every requested method's top-K neighbours, fit on train + validation, compared.

    Writes into ``out`` atomically: ``neighbors_<method>.csv``, ``comparison.json`` and
    ``report.html``.

    Args:
        data: a :class:`tuner.data.PreparedData`.
        als_params, ials_params: constructor kwargs of the factor models (required when
            "als" / "ials" is among ``methods``).
        out: output directory (replaced as a whole on success).
        top_k: neighbours per item.
        methods: subset of ``METHODS``.
        anchors: raw item ids shown side by side in addition to head / torso / tail anchors.
        num_threads: numba threads (0 = numba's default).
        slim_alpha, slim_l1_ratio: SLIM's penalty (scikit-learn's ElasticNet parametrisation).
        eval_k: cut-off of the downstream test metrics.
        progress: ``progress(method, done, total)`` during the long steps.
        log: one-line messages (a method started / finished).

    Returns:
        The comparison dict written to ``comparison.json``.

    Raises:
        ConfigError: unknown method, missing factor parameters, bad SLIM settings.
        DataError: an unknown anchor id.
    """
    from tuner._io import atomic_dir, write_text_atomic
    from tuner.metrics import evaluate, popularity_baseline
    from tuner.reports import render_report
    from tuner.similarities.compare import compare, resolve_anchors
    from tuner.similarities.cosine import cosine_neighbors
    from tuner.similarities.factors import factor_neighbors, fit_factor_model
    from tuner.similarities.slim import slim_neighbors

    say = log or (lambda _msg: None)
    methods = check_methods(methods)
    factor_params = {"als": als_params, "ials": ials_params}
    for m in methods:
        if m in FACTOR_METHODS and factor_params[m] is None:
            model = "iALS" if m == "ials" else "ALS"
            raise ConfigError(
                f"Method {m!r} needs the {model} parameters (--{m}-study or --{m}-params). "
                f"Fix: pass them, or leave {m} out of --methods."
            )
    anchor_idx = resolve_anchors(data.items, anchors)
    x = data.train_val()
    warm = np.diff(x.tocsc().indptr) > 0
    references: dict[str, dict] = {}
    started = time.perf_counter()
    references["popularity"] = popularity_baseline(x, x, data.test, k=eval_k).as_dict()
    neighbors: dict[str, Neighbors] = {}
    n_warm = int(warm.sum())
    for m in methods:
        say(f"{m}: computing top-{top_k} neighbours of {n_warm:,} items ...")
        t0 = time.perf_counter()
        if progress is not None and m in ("cosine", "slim"):
            progress(m, 0, n_warm)  # starts the method's clock (the first report ends a chunk)
        if m == "cosine":
            nb = cosine_neighbors(x, top_k=top_k, num_threads=num_threads, progress=progress)
        elif m == "slim":
            nb = slim_neighbors(
                x, alpha=slim_alpha, l1_ratio=slim_l1_ratio, top_k=top_k,
                num_threads=num_threads, progress=progress,
            )  # fmt: skip
        else:
            params = dict(factor_params[m] or {})
            params.pop("num_threads", None)
            t_fit = time.perf_counter()
            if fitted is not None and m in fitted:
                model = fitted[m]
                say(f"{m}: using the exported model's factors ({params})")
            else:
                seed = int((seeds or {}).get(m, 0))
                say(f"{m}: fitting the model on train + validation with {params}, seed {seed}")
                model = fit_factor_model(m, params, x, seed=seed, num_threads=num_threads)
            fit_seconds = time.perf_counter() - t_fit
            own = evaluate(
                model.user_factors, model.item_factors, x, data.test, k=eval_k,
                num_threads=num_threads,
            ).as_dict()  # fmt: skip
            references[m] = own
            if progress is not None:
                progress(m, 0, n_warm)
            nb = factor_neighbors(
                model.item_factors, method=m, top_k=top_k, warm=warm,
                num_threads=num_threads, progress=progress,
            )  # fmt: skip
            nb.info.update({"params": params, "fit_seconds": fit_seconds, "own_test": own})
        nb.info["seconds"] = time.perf_counter() - t0
        neighbors[m] = nb
        say(f"{m}: done in {nb.info['seconds']:.1f} s")
    say("comparing the methods (overlaps, popularity, downstream test MRR) ...")
    cmp = compare(
        neighbors,
        items=data.items,
        user_items=x,
        test=data.test,
        references=references,
        anchors=anchor_idx,
        eval_k=eval_k,
    )
    cmp["data"] = {
        "path": str(data.path),
        "fingerprint": data.fingerprint,
        "source": data.manifest.get("source"),
        "fit_on": "train+val",
    }
    cmp["settings"] = {
        "top_k": int(top_k),
        "methods": list(methods),
        "slim_alpha": float(slim_alpha),
        "slim_l1_ratio": float(slim_l1_ratio),
        "num_threads": int(num_threads),
        "anchors": [str(a) for a in anchors],
    }
    cmp["seconds_total"] = time.perf_counter() - started
    say("writing neighbours, comparison.json and report.html ...")
    with atomic_dir(out) as tmp:
        for m, nb in neighbors.items():
            write_neighbors_csv(tmp / f"neighbors_{m}.csv", nb, data.items)
        write_text_atomic(
            tmp / "comparison.json", json.dumps(cmp, indent=2, ensure_ascii=False) + "\n"
        )
        write_text_atomic(tmp / "report.html", render_report(cmp))
    return cmp
