"""The model directory: a fitted configuration that recommends and finds similar items by raw id.

A model directory holds:

- ``model.json``: format and version, the model name, its parameters and seed, the data
  fingerprint, validation / test MRR@100 with their standard errors (when known), where it came
  from (study or parameter file) and tuner's version;
- ``user_factors.npy`` (n_users, k) and ``item_factors.npy`` (n_items, k), float32;
- ``liked.npz``: the (n_users, n_items) train + validation likes the factors were fitted on
  (scipy.sparse CSR), so recommendations can leave out what a user already liked;
- ``users.csv`` and ``items.csv``: the prepared data's id maps, copied as written (row ``index``,
  ``raw_id``; items also ``name``).

It is written under a temporary name and renamed at the end, so a failure leaves no partial
model behind.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
import shutil
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from tuner import __version__
from tuner._io import atomic_dir
from tuner.errors import ConfigError, DataError

if TYPE_CHECKING:
    from implicit.cpu.als import AlternatingLeastSquares

    from tuner.data import PreparedData
    from tuner.solvers import FactorizationModel

FORMAT = "tuner-model"
FORMAT_VERSION = 1
FILES = (
    "model.json",
    "user_factors.npy",
    "item_factors.npy",
    "liked.npz",
    "users.csv",
    "items.csv",
)
METRIC_KEYS = ("val_mrr_at_100", "val_mrr_se", "test_mrr_at_100", "test_mrr_se")

_INTEGER = re.compile(r"-?[0-9]+")


def is_model_dir(path: str | Path) -> bool:
    """True when ``path`` holds a ``model.json`` written by :func:`save_model`."""
    meta = Path(path) / "model.json"
    if not meta.is_file():
        return False
    try:
        return json.loads(meta.read_text(encoding="utf-8")).get("format") == FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def check_model_out(out: str | Path, option: str = "--out") -> Path:
    """Refuse an output path that would replace something other than a model directory.

    An existing model directory is replaced (atomically) and an empty directory is used.

    Raises:
        ConfigError: ``out`` is a file, or a non-empty directory that is not a model.
    """
    out = Path(out)
    if not out.exists():
        return out
    if not out.is_dir():
        raise ConfigError(f"{option} {out} is an existing file. Fix: pass a directory path.")
    if not is_model_dir(out) and any(out.iterdir()):
        raise ConfigError(
            f"{option} {out} exists and is not a model directory; refusing to replace it. "
            "Fix: choose a new or empty directory."
        )
    return out


def save_model(
    out: str | Path,
    fitted: FactorizationModel,
    data: PreparedData,
    *,
    model_name: str,
    params: Mapping[str, Any],
    seed: int,
    metrics: Mapping[str, float | None] | None = None,
    source: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Write the model directory ``out`` (atomically; an existing model there is replaced).

    Args:
        out: the model directory.
        fitted: a model fitted on ``data.train_val()`` (see :func:`tuner.model.refit`).
        data: the prepared split it was fitted on (id maps, fingerprint, likes).
        model_name: registry key of the solver ("als", "ials").
        params: its constructor arguments, fixed ones included.
        seed: the ``random_state`` it was fitted with.
        metrics: any of :data:`METRIC_KEYS` (None or missing: unknown).
        source: where the configuration came from (study name and storage, or a file).

    Returns:
        The contents of ``model.json``.

    Raises:
        ConfigError: ``out`` is a file or a non-empty directory that is not a model.
    """
    if fitted.user_factors is None or fitted.item_factors is None:
        raise ConfigError("save_model() needs a fitted model; call fit() (or refit()) first.")
    user_factors = np.ascontiguousarray(fitted.user_factors, dtype=np.float32)
    item_factors = np.ascontiguousarray(fitted.item_factors, dtype=np.float32)
    if (user_factors.shape[0], item_factors.shape[0]) != (data.n_users, data.n_items):
        raise DataError(
            f"the factors {user_factors.shape} and {item_factors.shape} do not fit the "
            f"{data.n_users} x {data.n_items} data in {data.path}. Fix: save the model fitted "
            "on this split."
        )
    given = dict(metrics or {})
    meta: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model": model_name,
        "params": dict(params),
        "seed": int(seed),
        "n_users": data.n_users,
        "n_items": data.n_items,
        "factors": int(user_factors.shape[1]),
        "data_fingerprint": data.fingerprint,
        "data_dir": str(Path(data.path).resolve()),
        **{key: _float_or_none(given.get(key)) for key in METRIC_KEYS},
        "source": dict(source or {}),
        "files": list(FILES),
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "tuner_version": __version__,
    }
    out = check_model_out(out)
    with atomic_dir(out, overwrite=True) as tmp:
        np.save(tmp / "user_factors.npy", user_factors)
        np.save(tmp / "item_factors.npy", item_factors)
        sp.save_npz(tmp / "liked.npz", data.train_val(), compressed=True)
        for name in ("users.csv", "items.csv"):
            shutil.copyfile(Path(data.path) / name, tmp / name)
        (tmp / "model.json").write_text(
            json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
    return meta


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


def _raw_ids(column: pd.Series) -> np.ndarray:
    """Raw ids as read from a CSV of strings: int64 when every id is a plain integer (the
    numeric sources), else the strings themselves (object array)."""
    values = column.to_numpy(dtype=object)
    if all(_INTEGER.fullmatch(v) and str(int(v)) == v for v in values):
        return values.astype(np.int64)
    return values


def _as_list(ids: Any) -> list[Any]:
    if isinstance(ids, str | bytes) or np.isscalar(ids):
        return [ids]
    return list(ids)


def _top(scores: np.ndarray, n: int) -> np.ndarray:
    """Rows of the ``n`` highest finite scores, best first; ties keep the lower row first."""
    order = np.argsort(-scores, kind="stable")[:n]
    return order[np.isfinite(scores[order])]


def _check_n(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ConfigError(f"n (the number of items to return) must be an integer >= 1. Got {n!r}.")
    return int(n)


class Model:
    """A model directory read back: factors, id maps and the likes they were fitted on.

    Attributes:
        path: the model directory.
        meta: the contents of ``model.json``.
        user_factors: (n_users, k) float32, C-contiguous; row ``i`` is user ``user_ids[i]``.
        item_factors: (n_items, k) float32, C-contiguous; row ``j`` is item ``item_ids[j]``.
        liked: (n_users, n_items) CSR float32, sorted indices: the train + validation likes.
        user_ids: (n_users,) raw user ids (int64, or strings as object).
        item_ids: (n_items,) raw item ids (int64, or strings as object).
        item_names: (n_items,) item names (object; "" where the data gave none).
    """

    def __init__(
        self,
        path: Path,
        meta: dict[str, Any],
        user_factors: np.ndarray,
        item_factors: np.ndarray,
        liked: sp.csr_matrix,
        user_ids: np.ndarray,
        item_ids: np.ndarray,
        item_names: np.ndarray,
    ) -> None:
        self.path = path
        self.meta = meta
        self.user_factors = user_factors
        self.item_factors = item_factors
        self.liked = liked
        self.user_ids = user_ids
        self.item_ids = item_ids
        self.item_names = item_names
        self._user_rows = {str(v): i for i, v in enumerate(user_ids)}
        self._item_rows = {str(v): i for i, v in enumerate(item_ids)}
        self._unit_items: np.ndarray | None = None

    def __repr__(self) -> str:
        return (
            f"Model({self.model_name!r}, {self.n_users} users x {self.n_items} items, "
            f"k={self.user_factors.shape[1]}, path={str(self.path)!r})"
        )

    @property
    def model_name(self) -> str:
        return str(self.meta["model"])

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.meta["params"])

    @property
    def n_users(self) -> int:
        return int(self.user_factors.shape[0])

    @property
    def n_items(self) -> int:
        return int(self.item_factors.shape[0])

    def _rows(self, ids: Any, kind: str) -> np.ndarray:
        lookup = self._user_rows if kind == "user" else self._item_rows
        wanted = _as_list(ids)
        rows = [lookup.get(str(v)) for v in wanted]
        unknown = [v for v, r in zip(wanted, rows, strict=True) if r is None]
        if unknown:
            shown = ", ".join(repr(str(v)) for v in unknown[:5])
            more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
            examples = ", ".join(str(v) for v in list(lookup)[:3])
            raise DataError(
                f"Unknown {kind} id {shown}{more} in model {self.path}. Fix: use a raw_id "
                f"listed in {self.path / (kind + 's.csv')} (e.g. {examples})."
            )
        return np.asarray(rows, dtype=np.int64)

    def user_rows(self, user_raw_ids: Any) -> np.ndarray:
        """Row indices (int64) of raw user ids; DataError naming any unknown id."""
        return self._rows(user_raw_ids, "user")

    def item_rows(self, item_raw_ids: Any) -> np.ndarray:
        """Row indices (int64) of raw item ids; DataError naming any unknown id."""
        return self._rows(item_raw_ids, "item")

    def recommend(self, user_raw_ids: Any, n: int = 10, filter_liked: bool = True) -> pd.DataFrame:
        """The top ``n`` items of each user by ``user_factors[u] @ item_factors.T``.

        Args:
            user_raw_ids: one raw user id or several (ints or strings; compared as text).
            n: items per user (fewer when the catalogue has fewer left).
            filter_liked: leave out the items the user liked in train + validation.

        Returns:
            One row per recommendation, in the order of ``user_raw_ids`` then rank: columns
            ``user``, ``rank`` (1-based), ``item``, ``name``, ``score`` (float32). Equal scores
            keep the lower item row first.

        Raises:
            DataError: an unknown user id.
            ConfigError: ``n`` is not an integer >= 1.
        """
        n = _check_n(n)
        hits = []
        for u in self.user_rows(user_raw_ids):
            scores = self.user_factors[u] @ self.item_factors.T
            if filter_liked:
                scores[
                    self.liked.indices[self.liked.indptr[u] : self.liked.indptr[u + 1]]
                ] = -np.inf
            hits.append((u, scores, _top(scores, n)))
        return self._frame(hits, ("user", self.user_ids), "item")

    def similar_items(self, item_raw_ids: Any, n: int = 10) -> pd.DataFrame:
        """The ``n`` items closest to each given item by cosine of the item factors.

        The item itself is left out. An item whose factors are all zero is similar to none
        (every score 0).

        Returns:
            One row per similar item: columns ``item`` (the query), ``rank`` (1-based),
            ``similar_item``, ``name``, ``score`` (cosine, float32).

        Raises:
            DataError: an unknown item id.
            ConfigError: ``n`` is not an integer >= 1.
        """
        n = _check_n(n)
        if self._unit_items is None:
            norms = np.linalg.norm(self.item_factors, axis=1, keepdims=True)
            self._unit_items = self.item_factors / np.where(norms > 0, norms, 1).astype(np.float32)
        unit = self._unit_items
        hits = []
        for i in self.item_rows(item_raw_ids):
            scores = unit @ unit[i]
            scores[i] = -np.inf
            hits.append((i, scores, _top(scores, n)))
        return self._frame(hits, ("item", self.item_ids), "similar_item")

    def _frame(
        self,
        hits: list[tuple[int, np.ndarray, np.ndarray]],
        query: tuple[str, np.ndarray],
        result: str,
    ) -> pd.DataFrame:
        """One row per (query row, scores, top item rows) hit, in order."""
        name, ids = query
        found = np.concatenate([np.empty(0, np.int64), *(top for _, _, top in hits)])
        return pd.DataFrame(
            {
                name: np.concatenate(
                    [ids[:0], *(np.repeat(ids[q : q + 1], t.size) for q, _, t in hits)]
                ),
                "rank": np.concatenate(
                    [np.empty(0, np.int64), *(np.arange(1, t.size + 1) for _, _, t in hits)]
                ),
                result: self.item_ids[found],
                "name": self.item_names[found],
                "score": np.concatenate(
                    [np.empty(0, np.float32), *(s[t] for _, s, t in hits)]
                ).astype(np.float32),
            }
        )

    def to_implicit(self) -> AlternatingLeastSquares:
        """The same factors as an ``implicit.cpu.als.AlternatingLeastSquares``.

        Its ``recommend(rows, model.liked[rows], N=n)`` and ``similar_items`` then work on
        the row indices of :meth:`user_rows` / :meth:`item_rows`, so the model drops into code
        written for implicit. Only ``factors`` is carried over of the parameters: implicit's
        solver is not tuner's, so fitting the returned object again gives implicit's model.

        Raises:
            ConfigError: the ``implicit`` package is not installed.
        """
        try:
            from implicit.cpu.als import AlternatingLeastSquares
        except ImportError as exc:
            raise ConfigError(
                f"to_implicit() needs the 'implicit' package, which cannot be imported ({exc}). "
                "Fix: pip install implicit."
            ) from None
        with warnings.catch_warnings():
            # implicit warns about OpenBLAS threads for its own fits; these factors are fitted.
            warnings.filterwarnings(
                "ignore", message="OpenBLAS is configured", category=RuntimeWarning
            )
            als = AlternatingLeastSquares(
                factors=int(self.user_factors.shape[1]),
                dtype=np.float32,
                random_state=int(self.meta.get("seed", 0)),
            )
        als.user_factors = self.user_factors.copy()
        als.item_factors = self.item_factors.copy()
        return als


def load_model(path: str | Path) -> Model:
    """Read a model directory written by :func:`save_model` (``tuner fit`` / ``tuner export``).

    Raises:
        DataError: the directory is missing, is not a model, or its files do not fit together.
    """
    path = Path(path)
    fix = f"Fix: write it with 'tuner fit --data DIR --study-name NAME --out {path}'."
    if not path.is_dir():
        raise DataError(f"model directory {path} does not exist. {fix}")
    if not is_model_dir(path):
        raise DataError(f"{path} is not a model directory (no tuner model.json). {fix}")
    meta = json.loads((path / "model.json").read_text(encoding="utf-8"))
    if meta.get("format_version") != FORMAT_VERSION:
        raise DataError(
            f"{path} holds a model in format version {meta.get('format_version')!r}; this tuner "
            f"reads version {FORMAT_VERSION}. Fix: fit it again with this version."
        )
    try:
        user_factors = np.load(path / "user_factors.npy", allow_pickle=False)
        item_factors = np.load(path / "item_factors.npy", allow_pickle=False)
        liked = sp.load_npz(path / "liked.npz").tocsr().astype(np.float32, copy=False)
        users = pd.read_csv(path / "users.csv", dtype=str, keep_default_na=False)
        items = pd.read_csv(path / "items.csv", dtype=str, keep_default_na=False)
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read model {path}: {exc}. {fix}") from None
    liked.sort_indices()
    n_users, n_items = user_factors.shape[0], item_factors.shape[0]
    if (
        user_factors.ndim != 2
        or item_factors.ndim != 2
        or user_factors.shape[1] != item_factors.shape[1]
        or liked.shape != (n_users, n_items)
        or len(users) != n_users
        or len(items) != n_items
    ):
        raise DataError(
            f"the files of model {path} do not fit together (factors {user_factors.shape} and "
            f"{item_factors.shape}, likes {liked.shape}, {len(users)} users and {len(items)} "
            f"items listed). {fix}"
        )
    names = items["name"] if "name" in items else pd.Series([""] * n_items)
    return Model(
        path=path,
        meta=meta,
        user_factors=np.ascontiguousarray(user_factors, dtype=np.float32),
        item_factors=np.ascontiguousarray(item_factors, dtype=np.float32),
        liked=liked,
        user_ids=_raw_ids(users["raw_id"]),
        item_ids=_raw_ids(items["raw_id"]),
        item_names=names.to_numpy(dtype=object),
    )
