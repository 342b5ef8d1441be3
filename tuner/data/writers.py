"""Write a like matrix back out in the course's Zen layout (for benchmarks and round trips)."""

from __future__ import annotations

from pathlib import Path

from tuner._io import write_text_atomic
from tuner.data.loaders import ZEN_NAMES, ZEN_RATINGS, ZEN_SOURCES
from tuner.data.matrix import LikeMatrix


def write_zen(like: LikeMatrix, folder: str | Path) -> list[Path]:
    """Write ``zen_ratings.csv``, ``zen_item_to_name.csv`` and ``zen_item_to_source.csv``.

    Ratings rows are ``user_id,"[id, id, ...]"`` in raw ids, in row order; names are quoted by
    pandas where needed (commas, quotes); items without a source get an empty cell.

    Args:
        like: the matrix with its raw-id maps and items table.
        folder: output directory (created if missing).

    Returns:
        The three paths written.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    m = like.matrix
    # Raw ids of every like, as text once; each row is then one join over a slice.
    ids_text = like.item_ids[m.indices].astype(str).tolist()
    indptr = m.indptr.tolist()
    users = like.user_ids.tolist()
    rows = (
        f'{users[r]},"[{", ".join(ids_text[indptr[r] : indptr[r + 1]])}]"\n'
        for r in range(len(users))
    )
    table = like.items.rename(columns={"raw_id": "id"})
    written = {
        ZEN_RATINGS: "user_id,item_ids\n" + "".join(rows),
        ZEN_NAMES: table[["id", "name"]].to_csv(index=False, lineterminator="\n"),
        ZEN_SOURCES: table[["id", "source"]].to_csv(index=False, na_rep="", lineterminator="\n"),
    }
    paths = []
    for name, text in written.items():
        write_text_atomic(folder / name, text)
        paths.append(folder / name)
    return paths
