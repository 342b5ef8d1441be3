"""How do the methods' neighbourhoods differ? Every number of the comparison report.

All statistics are over *warm* items (items with at least one like in train + validation);
cold items have no neighbours under any method.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from tuner.errors import DataError
from tuner.similarities._common import Neighbors

# anchors picked automatically: (group, quantile of the popularity rank among warm items)
AUTO_ANCHORS: tuple[tuple[str, float], ...] = (
    ("head", 0.0),
    ("head", 0.001),
    ("torso", 0.05),
    ("torso", 0.2),
    ("tail", 0.6),
    ("tail", 0.9),
)
SIDE_BY_SIDE = 10
POPULARITY_BINS = 10


def _topk_csr(nb: Neighbors, k: int) -> sp.csr_matrix:
    """(n_items, n_items) CSR of each item's first ``k`` neighbours with their scores."""
    sub = Neighbors(nb.method, nb.indices[:, :k], nb.scores[:, :k], nb.n_nonzero)
    return sub.to_csr()


def _quantiles(values: np.ndarray, qs: Sequence[float]) -> dict[str, float | None]:
    if values.size == 0:
        return {f"q{q:g}": None for q in qs}
    out = np.quantile(values, qs)
    return {f"q{q:g}": float(v) for q, v in zip(qs, out, strict=True)}


def score_distribution(nb: Neighbors, warm: np.ndarray, bins: int = 40) -> dict[str, Any]:
    """Quantiles and a histogram of the kept similarity scores of warm anchors."""
    kept = nb.indices[warm] >= 0
    vals = nb.scores[warm][kept].astype(np.float64)
    out: dict[str, Any] = {
        "n_scores": int(vals.size),
        "mean": float(vals.mean()) if vals.size else None,
        **_quantiles(vals, (0.0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1.0)),
    }
    if vals.size:
        counts, edges = np.histogram(vals, bins=bins)
        out["histogram"] = {"edges": edges.tolist(), "counts": counts.tolist()}
    return out


def neighbours_per_item(nb: Neighbors, warm: np.ndarray) -> dict[str, Any]:
    """Non-zero similarities per warm item before the top-K cut, and how many lists are full."""
    nnz = nb.n_nonzero[warm].astype(np.float64)
    kept = (nb.indices[warm] >= 0).sum(axis=1)
    qs = _quantiles(nnz, (0.1, 0.5, 0.9, 1.0))
    return {
        "mean": float(nnz.mean()) if nnz.size else None,
        "median": qs["q0.5"],
        "p10": qs["q0.1"],
        "p90": qs["q0.9"],
        "max": qs["q1"],
        "share_full_top_k": float((kept == nb.k).mean()) if kept.size else None,
        "share_empty": float((kept == 0).mean()) if kept.size else None,
        "log10_histogram": _log_histogram(nnz),
    }


def _log_histogram(values: np.ndarray, bins: int = 30) -> dict[str, list]:
    if values.size == 0:
        return {"edges": [], "counts": []}
    counts, edges = np.histogram(np.log10(values + 1.0), bins=bins)
    return {"edges": edges.tolist(), "counts": counts.tolist()}


def coverage_at(nb: Neighbors, warm: np.ndarray, k: int = 10) -> float:
    """Share of warm items that appear in at least one warm item's top-``k``."""
    top = nb.indices[warm, :k]
    hit = np.unique(top[top >= 0])
    return float(hit.size / max(int(warm.sum()), 1))


def jaccard_at(a: Neighbors, b: Neighbors, warm: np.ndarray, k: int) -> float:
    """Mean over warm items of |top-k(a) & top-k(b)| / |top-k(a) | top-k(b)| (empty: skipped)."""
    ka, kb = min(k, a.k), min(k, b.k)
    ma = _topk_csr(a, ka)
    mb = _topk_csr(b, kb)
    ma.data[:] = 1.0
    mb.data[:] = 1.0
    inter = np.asarray(ma.multiply(mb).sum(axis=1)).ravel()
    union = np.diff(ma.indptr) + np.diff(mb.indptr) - inter
    keep = warm & (union > 0)
    return float((inter[keep] / union[keep]).mean()) if keep.any() else float("nan")


def _pair_keys(nb: Neighbors) -> tuple[np.ndarray, np.ndarray]:
    """(item * n_items + neighbour) of every kept pair, and its score."""
    rows, ranks = np.nonzero(nb.indices >= 0)
    keys = rows.astype(np.int64) * nb.n_items + nb.indices[rows, ranks]
    return keys, nb.scores[rows, ranks]


def rank_correlation(a: Neighbors, b: Neighbors) -> dict[str, Any]:
    """Spearman correlation of the two methods' scores over the (item, neighbour) pairs that
    both keep in their top-K lists."""
    from scipy.stats import spearmanr

    ka, sa = _pair_keys(a)
    kb, sb = _pair_keys(b)
    _, ia, ib = np.intersect1d(ka, kb, assume_unique=True, return_indices=True)
    n = int(ia.size)
    if n < 3:
        return {"spearman": None, "n_shared_pairs": n}
    rho = spearmanr(sa[ia], sb[ib]).statistic
    return {"spearman": None if not np.isfinite(rho) else float(rho), "n_shared_pairs": n}


def popularity_profile(
    nb: Neighbors, popularity: np.ndarray, warm: np.ndarray, k: int = 10
) -> dict[str, Any]:
    """Popularity of the top-``k`` neighbours against the anchor's popularity.

    Warm anchors are cut into ``POPULARITY_BINS`` popularity quantile bins; per bin the median
    anchor popularity and the median (over anchors) of the mean neighbour popularity.
    ``mean_log10_ratio`` = mean over anchors of log10(mean neighbour likes / anchor likes).
    """
    anchors = np.flatnonzero(warm)
    top = nb.indices[anchors, :k]
    ok = top >= 0
    pop_n = np.where(ok, popularity[np.maximum(top, 0)], 0.0)
    counts = ok.sum(axis=1)
    has = counts > 0
    mean_n = np.divide(pop_n.sum(axis=1), counts, out=np.zeros(len(anchors)), where=has)
    pop_a = popularity[anchors].astype(np.float64)
    ranks = pd.Series(pop_a).rank(method="first").to_numpy()
    bins = np.minimum((ranks - 1) * POPULARITY_BINS // max(len(anchors), 1), POPULARITY_BINS - 1)
    anchor_med, neigh_med = [], []
    for b in range(POPULARITY_BINS):
        sel = (bins == b) & has
        anchor_med.append(float(np.median(pop_a[sel])) if sel.any() else None)
        neigh_med.append(float(np.median(mean_n[sel])) if sel.any() else None)
    ratio = np.log10(mean_n[has] / pop_a[has]) if has.any() else np.array([])
    return {
        "anchor_likes_median": anchor_med,
        "neighbour_likes_median": neigh_med,
        "mean_log10_ratio": float(ratio.mean()) if ratio.size else None,
        "neighbour_likes_mean": float(mean_n[has].mean()) if has.any() else None,
    }


def same_label_rate(nb: Neighbors, labels: pd.Series, warm: np.ndarray, k: int = 10) -> dict:
    """Share of top-``k`` neighbours with the anchor's label (source id or topic), over the
    (anchor, neighbour) pairs where both labels are known; ``chance`` is the rate of two random
    warm items with known labels."""
    codes, _ = pd.factorize(labels, use_na_sentinel=True)
    codes = np.asarray(codes)
    anchors = np.flatnonzero(warm & (codes >= 0))
    top = nb.indices[anchors, :k]
    ok = top >= 0
    nc = np.where(ok, codes[np.maximum(top, 0)], -1)
    known = ok & (nc >= 0)
    same = known & (nc == codes[anchors][:, None])
    n_pairs = int(known.sum())
    known_warm = codes[warm & (codes >= 0)]
    freq = np.bincount(known_warm).astype(np.float64) / max(known_warm.size, 1)
    return {
        "rate": float(same.sum() / n_pairs) if n_pairs else None,
        "n_pairs": n_pairs,
        "chance": float((freq**2).sum()) if known_warm.size else None,
    }


def item_recommender_scorer(
    nb: Neighbors, user_items: sp.csr_matrix
) -> Callable[[np.ndarray], np.ndarray]:
    """scorer(users) -> (m, n_items) float32: score(u, j) = sum of j's similarities to the items
    u liked (j's top-K list), the item-based recommender built from a similarity."""
    sim_t = nb.to_csr().T.tocsr()
    x = user_items.tocsr()

    def scorer(users: np.ndarray) -> np.ndarray:
        return np.asarray((x[users] @ sim_t).toarray(), dtype=np.float32)

    return scorer


def resolve_anchors(items: pd.DataFrame, raw_ids: Sequence[str | int]) -> list[int]:
    """Item indices of user-given raw ids (compared as strings).

    Raises:
        DataError: an id that is not in the items table.
    """
    lookup = {str(r): int(i) for r, i in zip(items["raw_id"], items["index"], strict=True)}
    out = []
    for raw in raw_ids:
        key = str(raw).strip()
        if key not in lookup:
            raise DataError(
                f"--anchors id {key!r} is not an item of this data set (raw ids as in "
                "items.csv's raw_id column). Fix: pass existing raw ids, e.g. "
                f"{', '.join(map(str, items['raw_id'].head(3)))}."
            )
        out.append(lookup[key])
    return out


def pick_anchors(popularity: np.ndarray, warm: np.ndarray, user: Sequence[int]) -> list[dict]:
    """Head / torso / tail anchors by popularity rank among warm items, then the user's ones."""
    order = np.flatnonzero(warm)[np.argsort(-popularity[warm], kind="stable")]
    picked: list[dict] = []
    seen: set[int] = set()
    for group, q in AUTO_ANCHORS:
        if order.size == 0:
            break
        idx = int(order[min(int(q * order.size), order.size - 1)])
        if idx not in seen:
            picked.append({"index": idx, "group": group})
            seen.add(idx)
    for idx in user:
        if idx not in seen:
            picked.append({"index": int(idx), "group": "user"})
            seen.add(int(idx))
    return picked


def side_by_side(
    neighbors: dict[str, Neighbors], items: pd.DataFrame, popularity: np.ndarray, anchors: list
) -> list[dict]:
    """Each anchor's top-10 neighbours of every method, with raw ids, names and likes."""
    names = items["name"].astype(str).to_numpy()
    raw = items["raw_id"].astype(str).to_numpy()
    out = []
    for a in anchors:
        i = a["index"]
        row: dict[str, Any] = {
            "index": i,
            "raw_id": raw[i],
            "name": names[i],
            "likes": int(popularity[i]),
            "group": a["group"],
            "neighbours": {},
        }
        for method, nb in neighbors.items():
            lst = []
            for rank, (j, s) in enumerate(
                zip(nb.indices[i, :SIDE_BY_SIDE], nb.scores[i, :SIDE_BY_SIDE], strict=True), 1
            ):
                if j < 0:
                    break
                lst.append(
                    {
                        "rank": rank,
                        "index": int(j),
                        "raw_id": raw[j],
                        "name": names[j],
                        "score": float(s),
                        "likes": int(popularity[j]),
                    }
                )
            row["neighbours"][method] = lst
        out.append(row)
    return out


def reference_label(name: str) -> str:
    """How the report names a reference: "iALS model" for a solver's own test scores (its
    ``label`` in :data:`tuner.solvers.MODELS`), the name itself otherwise ("popularity")."""
    from tuner.solvers import MODELS, model_label

    return f"{model_label(name)} model" if name in MODELS else name


def compare(
    neighbors: dict[str, Neighbors],
    *,
    items: pd.DataFrame,
    user_items: sp.csr_matrix,
    test: sp.csr_matrix | None = None,
    references: dict[str, dict] | None = None,
    anchors: Sequence[int] = (),
    eval_k: int = 100,
    recommenders: Mapping[str, Neighbors] | None = None,
) -> dict[str, Any]:
    """Every comparison metric of the report.

    Args:
        neighbors: method -> :class:`Neighbors`, all over the same items.
        items: the prepared items table (index, raw_id, name, source, optional topic).
        user_items: (n_users, n_items) train + validation likes the similarities were fit on.
        test: held-out test likes for the downstream MRR (None: skipped).
        references: name -> metrics dict shown beside the downstream results (popularity,
            the factor models' own test MRR, keyed by their solver's name).
        anchors: extra anchor item indices for the side-by-side lists.
        eval_k: cut-off of the downstream metrics.
        recommenders: method -> the neighbours its downstream recommender votes with, where
            they are more than the compared lists (a tuned neighbourhood size above top-K).

    Returns:
        A JSON-ready dict (see ``comparison.json``).
    """
    methods = list(neighbors)
    popularity = np.bincount(user_items.indices, minlength=user_items.shape[1]).astype(np.float64)
    warm = popularity > 0
    has_topic = "topic" in items.columns and items["topic"].notna().any()
    per_method: dict[str, Any] = {}
    for m in methods:
        nb = neighbors[m]
        entry: dict[str, Any] = {
            "info": nb.info,
            "scores": score_distribution(nb, warm),
            "neighbours_per_item": neighbours_per_item(nb, warm),
            "coverage_at_10": coverage_at(nb, warm, 10),
            "popularity": popularity_profile(nb, popularity, warm, 10),
            "same_source_at_10": same_label_rate(nb, items["source"], warm, 10),
            "same_topic_at_10": same_label_rate(nb, items["topic"], warm, 10)
            if has_topic
            else None,
        }
        if test is not None:
            from tuner.metrics import evaluate_scorer

            voters = (recommenders or {}).get(m, nb)
            entry["downstream"] = evaluate_scorer(
                item_recommender_scorer(voters, user_items), user_items, test, k=eval_k
            ).as_dict()
        per_method[m] = entry
    pairs = []
    for a, b in itertools.combinations(methods, 2):
        na, nb_ = neighbors[a], neighbors[b]
        pairs.append(
            {
                "a": a,
                "b": b,
                "jaccard_at_10": jaccard_at(na, nb_, warm, 10),
                "jaccard_at_100": jaccard_at(na, nb_, warm, 100),
                **rank_correlation(na, nb_),
            }
        )
    picked = pick_anchors(popularity, warm, anchors)
    out: dict[str, Any] = {
        "methods": methods,
        "top_k": max((nb.k for nb in neighbors.values()), default=0),
        "n_items": int(user_items.shape[1]),
        "n_warm_items": int(warm.sum()),
        "n_users": int(user_items.shape[0]),
        "n_likes_fit": int(user_items.nnz),
        "eval_k": eval_k,
        "has_topic": bool(has_topic),
        "per_method": per_method,
        "pairs": pairs,
        "references": references or {},
        "reference_labels": {name: reference_label(name) for name in references or {}},
        "anchors": side_by_side(neighbors, items, popularity, picked),
    }
    out["summary"] = summarize(out)
    return _clean(out)


def _clean(obj: Any) -> Any:
    """NaN -> None so that comparison.json is strict JSON."""
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, np.generic):
        return _clean(obj.item())
    return obj


def _pct(x: float | None) -> str:
    if x is None:
        return "n/a"
    return f"{100 * x:.1f}%" if abs(x) >= 0.01 or x == 0 else f"{100 * x:.2g}%"


def summarize(cmp: dict[str, Any]) -> list[str]:
    """A few sentences, generated from the numbers, on how the methods differ."""
    pm = cmp["per_method"]
    methods = cmp["methods"]
    lines: list[str] = []
    if not methods:
        return lines
    down = {m: pm[m]["downstream"]["mrr"] for m in methods if "downstream" in pm[m]}
    if down:
        refs = cmp.get("references", {})
        # MRRs to the decimal of their standard errors' second digit: more would be noise
        errors = [pm[m]["downstream"].get("mrr_se") for m in down]
        errors += [r.get("mrr_se") for r in refs.values()]
        known = [e for e in errors if e]
        decimals = max(0, 1 - math.floor(math.log10(max(known)))) if known else 4

        def mrr(x: float) -> str:
            return f"{x:.{decimals}f}"

        best = max(down, key=lambda m: down[m])
        worst = min(down, key=lambda m: down[m])
        text = (
            f"As an item-based recommender, {best} similarities rank the held-out test like best "
            f"(MRR@{cmp['eval_k']} {mrr(down[best])}); {worst} is weakest ({mrr(down[worst])})."
        )
        if "popularity" in refs:
            pop = refs["popularity"]["mrr"]
            beat = [m for m in methods if m in down and down[m] > pop]
            text += f" The popularity floor is {mrr(pop)}; " + (
                f"{', '.join(beat)} beat it." if beat else "no method beats it."
            )
        labels = cmp.get("reference_labels", {})
        own = [
            f"the {labels.get(m, m)} {mrr(r['mrr'])}" for m, r in refs.items() if m != "popularity"
        ]
        if own:
            text += f" Scoring with the factors themselves reaches {', '.join(own)}."
        lines.append(text)
    if cmp["pairs"]:
        hi = max(cmp["pairs"], key=lambda p: p["jaccard_at_10"] or 0.0)
        lo = min(cmp["pairs"], key=lambda p: p["jaccard_at_10"] or 0.0)
        j_hi = hi["jaccard_at_10"] or 0.0
        verdict = "largely different" if j_hi < 0.3 else "partly the same"
        if len(cmp["pairs"]) == 1:
            lines.append(
                f"{hi['a']} and {hi['b']} share little of their top-10 lists "
                f"(Jaccard@10 {j_hi:.3f}): they find {verdict} neighbours."
                if j_hi < 0.3
                else f"{hi['a']} and {hi['b']} overlap at Jaccard@10 {j_hi:.3f}: they find "
                f"{verdict} neighbours."
            )
        else:
            lines.append(
                f"{hi['a']} and {hi['b']} agree most (Jaccard@10 {j_hi:.3f}); "
                f"{lo['a']} and {lo['b']} least ({lo['jaccard_at_10'] or 0.0:.3f}): the methods "
                f"find {verdict} neighbours."
            )
    cov = {m: pm[m]["coverage_at_10"] for m in methods}
    hi_c, lo_c = max(cov, key=lambda m: cov[m]), min(cov, key=lambda m: cov[m])
    lines.append(
        f"Catalogue coverage of the top-10 lists ranges from {_pct(cov[lo_c])} ({lo_c}) to "
        f"{_pct(cov[hi_c])} ({hi_c})."
    )
    ratio = {
        m: pm[m]["popularity"]["mean_log10_ratio"]
        for m in methods
        if pm[m]["popularity"]["mean_log10_ratio"] is not None
    }
    if ratio:
        hi_r = max(ratio, key=lambda m: ratio[m])
        lo_r = min(ratio, key=lambda m: ratio[m])
        lines.append(
            f"{hi_r} leans most towards popular neighbours (on average {10 ** ratio[hi_r]:.1f}x "
            f"the anchor's likes), {lo_r} least ({10 ** ratio[lo_r]:.1f}x)."
        )
    for key, label in (("same_source_at_10", "author"), ("same_topic_at_10", "topic")):
        rates = {m: pm[m][key]["rate"] for m in methods if pm[m].get(key) and pm[m][key]["rate"]}
        if rates:
            best = max(rates, key=lambda m: rates[m])
            chance = pm[best][key]["chance"]
            listed = ", ".join(f"{m} {_pct(r)}" for m, r in rates.items())
            lines.append(
                f"Same-{label} rate of the top-10: {listed}"
                f" (chance {_pct(chance)}); {best} follows the {label} most closely."
            )
    if "slim" in pm:
        npi = pm["slim"]["neighbours_per_item"]
        lines.append(
            f"SLIM is sparse: a median item has {npi['median']:.0f} non-zero weights "
            f"({_pct(npi['share_full_top_k'])} of items fill all {cmp['top_k']} slots), while "
            "cosine ranks every co-occurring item and the factor methods every item."
        )
    return lines
