"""What every loader returns: one row per like in raw ids, plus any item metadata it found."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass
class Interactions:
    """Likes in raw ids, before they become a matrix.

    Attributes:
        users: (n_likes,) int64 raw user id of each like (non-negative).
        items: (n_likes,) int64 raw item id of each like (non-negative). Duplicates allowed; the
            matrix builder collapses them.
        item_meta: optional table indexed by raw item id (int64) with any of the columns
            ``name`` (str), ``source`` (nullable Int64) and ``topic`` (str). Rows for items that
            never get a like are counted as dropped items.
        seen_users: optional (n,) int64 raw ids of every user the input mentions, including users
            whose interactions were all filtered out (they are counted as dropped users).
        seen_items: optional (n,) int64 raw ids of every item the input mentions (catalogue).
        warnings: one-line warnings to show the user (e.g. names for unknown item ids).
        details: loader facts for the manifest (rows read, ratings filtered, parse time...).
        user_labels: when the input's user ids are text (Amazon, Yelp, Last.fm names), the
            sorted distinct ids; ``users`` then holds each like's position in it. None: the
            ids are the integers themselves.
        item_labels: the same for the item ids.
    """

    users: np.ndarray
    items: np.ndarray
    item_meta: pd.DataFrame | None = None
    seen_users: np.ndarray | None = None
    seen_items: np.ndarray | None = None
    warnings: list[str] = field(default_factory=list)
    details: dict[str, object] = field(default_factory=dict)
    user_labels: np.ndarray | None = None
    item_labels: np.ndarray | None = None

    @property
    def n_likes(self) -> int:
        return int(self.users.shape[0])
