"""A Zen-shaped synthetic like log with structure a factorization model can learn.

Generative story (all draws vectorized, one ``numpy.random.Generator`` seeded once):

1. ``n_topics`` topics with uneven sizes. Authors (sources, signed 64-bit ids like Zen's) each
   write on one topic and have a heavy-tailed (Pareto) reach.
2. Items belong to one author (and so to its topic); an item's popularity is its author's
   reach times a log-normal quality, so popularity is heavy-tailed within and across topics.
3. Users have a heavy-tailed (log-normal) number of likes and a sparse Dirichlet mixture over
   topics; each user also follows a few authors drawn from their topics.
4. Each like is, independently: a global-popularity draw (noise that a popularity ranking
   captures), an item from a followed author, or an item from a topic drawn from the user's
   mixture (both weighted by item popularity). Duplicate draws are collapsed later by the
   matrix builder, so the final like count is a little below the draw count.

The topic and author signal is what iALS can learn and a popularity ranking cannot; the noise
share and the topic count keep the problem from being trivial.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from tuner.data.interactions import Interactions
from tuner.errors import DataError

# Shape of the course's Zen data set.
ZEN_USERS = 75_910
ZEN_ITEMS = 104_503
ZEN_LIKES = 5_800_000

# Word lists for generated names; the topic word is in every name so neighbours can be eyeballed.
TOPICS = (
    "футбол", "хоккей", "кулинария", "выпечка", "космос", "астрономия", "автомобили", "ремонт",
    "дача", "огород", "рыбалка", "охота", "путешествия", "история", "политика", "экономика",
    "финансы", "инвестиции", "криптовалюта", "смартфоны", "ноутбуки", "игры", "кино", "сериалы",
    "музыка", "книги", "психология", "здоровье", "фитнес", "диеты", "мода", "красота", "дети",
    "школа", "наука", "физика", "биология", "кошки", "собаки", "аквариум", "цветы", "интерьер",
    "недвижимость", "карьера", "юмор", "знаменитости", "оружие", "авиация", "флот", "шахматы",
    "теннис", "бокс", "велосипеды", "горы", "море", "рецепты", "вино", "кофе", "фотография",
    "архитектура",
)  # fmt: skip
_PHRASES = (
    "как выбрать и не пожалеть", "{n} ошибок новичков", "главное за неделю", "что нужно знать",
    "секреты мастеров", "{n} фактов, о которых молчат", "личный опыт", "разбор по шагам",
    "мифы и правда", "почему все ошибаются", "история одного случая", "советы экспертов",
    "топ-{n} за год", "неожиданный поворот", "простыми словами", "взгляд изнутри",
    "чего ждать в {year} году", "полный гид", "честный обзор", "{n} идей на выходные",
)  # fmt: skip


def synthetic_shape(scale: float) -> tuple[int, int]:
    """(n_users, n_items) drawn for a scale; both shrink together with ``scale``."""
    if not (isinstance(scale, numbers.Real) and 0.0 < float(scale) <= 4.0):
        raise DataError(
            f"--scale must be in (0, 4] (1 = the Zen shape {ZEN_USERS:,} x {ZEN_ITEMS:,}); "
            f"got {scale!r}. Fix: pass e.g. --scale 0.02 for a small test set."
        )
    n_users = round(ZEN_USERS * scale)
    n_items = round(ZEN_ITEMS * scale)
    if n_users < 50 or n_items < 50:
        raise DataError(
            f"--scale {scale} gives {n_users} users x {n_items} items; the generator needs at "
            "least 50 of each. Fix: use --scale 0.001 or more."
        )
    return n_users, n_items


def _offset_search(cum: np.ndarray, group: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse-CDF draws from many categorical distributions at once.

    Args:
        cum: (n_groups, m) float64 per-group cumulative probabilities, each row ending at 1.
        group: (n,) int64 distribution (row) to draw from for each draw.
        u: (n,) float64 uniforms in [0, 1).

    Returns:
        (n,) int64 category in ``0..m-1`` for each draw.

    Adding the row number to every row turns all rows into one increasing array, so a single
    ``searchsorted`` serves every distribution.
    """
    m = cum.shape[1]
    flat = (cum + np.arange(cum.shape[0], dtype=np.float64)[:, None]).ravel()
    pos = np.searchsorted(flat, group + u, side="right")
    return np.minimum(pos - group * m, m - 1)


def _segment_search(
    order: np.ndarray, starts: np.ndarray, weights: np.ndarray, seg: np.ndarray, u: np.ndarray
) -> np.ndarray:
    """Draw members of ragged groups weighted by ``weights``.

    Args:
        order: (n_members,) int64 member ids sorted by group.
        starts: (n_groups + 1,) int64 offsets of each group in ``order``; no group is empty.
        weights: (n_members,) float64 positive weight of each member (indexed by member id).
        seg: (n,) int64 group to draw from per draw.
        u: (n,) float64 uniforms in [0, 1).

    Returns:
        (n,) int64 member ids.
    """
    w = weights[order]
    cum = np.cumsum(w)
    base = np.concatenate(([0.0], cum))
    lo = base[starts[seg]]
    hi = base[starts[seg + 1]]
    pos = np.searchsorted(cum, lo + u * (hi - lo), side="right")
    pos = np.clip(pos, starts[seg], starts[seg + 1] - 1)
    return order[pos]


def _group(keys: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(keys, kind="stable")
    starts = np.zeros(n_groups + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys, minlength=n_groups), out=starts[1:])
    return order, starts


def _names(rng: np.random.Generator, topic_words: np.ndarray) -> np.ndarray:
    n = topic_words.shape[0]
    phrase = np.asarray(_PHRASES, dtype=object)[rng.integers(0, len(_PHRASES), n)]
    nums = np.asarray(rng.integers(5, 16, size=n)).tolist()
    years = np.asarray(rng.integers(2018, 2027, size=n)).tolist()
    out = np.empty(n, dtype=object)
    for i in range(n):  # short strings: str.format per item is fast enough at 100k items
        out[i] = f"{topic_words[i].capitalize()}: " + phrase[i].format(n=nums[i], year=years[i])
    return out


def generate(
    scale: float = 1.0,
    seed: int = 0,
    *,
    likes_per_user: float = 1.15 * ZEN_LIKES / ZEN_USERS,
    noise: float = 0.1,
    author_share: float = 0.3,
    reach_shape: float = 3.0,
    quality_sigma: float = 0.7,
    topic_conc: float = 0.08,
) -> Interactions:
    """Draw a Zen-shaped like log.

    Args:
        scale: shrinks users and items together; 1.0 is 75,910 users x 104,503 items.
        seed: seed of the single random generator; same seed, same output, bit for bit.
        likes_per_user: mean draws per user; 15% above Zen's 76 because about that share of
            draws repeats a (user, item) pair at full scale and is collapsed.
        noise: share of likes drawn from global popularity only.
        author_share: share of likes drawn from the user's followed authors.
        reach_shape: Pareto shape of author reach (smaller = heavier popularity tail).
        quality_sigma: log-normal sigma of item quality within an author.
        topic_conc: Dirichlet concentration per topic of user mixtures (smaller = users stick
            to fewer topics).

    Returns:
        Interactions with raw ids ``0..n_users-1`` / ``0..n_items-1`` and ``item_meta`` holding
        ``name``, ``source`` (signed 64-bit author id) and ``topic`` (ground truth).
    """
    n_users, n_items = synthetic_shape(scale)
    rng = np.random.default_rng(seed)
    n_topics = int(np.clip(round(60 * float(scale) ** 0.5), 12, len(TOPICS)))
    n_authors = max(4 * n_topics, n_items // 20)

    # Topics of uneven size; authors write on one topic each and have Pareto reach.
    topic_size = rng.dirichlet(np.full(n_topics, 3.0))
    author_topic = rng.choice(n_topics, size=n_authors, p=topic_size)
    author_topic[:n_topics] = np.arange(n_topics)  # every topic has an author
    author_reach = rng.pareto(reach_shape, n_authors) + 0.2
    author_ids = rng.integers(np.iinfo(np.int64).min, np.iinfo(np.int64).max, n_authors)

    # Items: a random author each (every author gets one first), popularity = reach x quality.
    item_author = rng.integers(0, n_authors, n_items)
    item_author[rng.permutation(n_items)[:n_authors]] = np.arange(n_authors)
    item_topic = author_topic[item_author]
    item_pop = author_reach[item_author] * rng.lognormal(0.0, quality_sigma, n_items)
    topic_order, topic_starts = _group(item_topic, n_topics)
    author_order, author_starts = _group(item_author, n_authors)

    # Users: heavy-tailed activity and a sparse mixture over topics.
    mu = np.log(likes_per_user) - 0.5 * 1.1**2
    n_draws = np.clip(rng.lognormal(mu, 1.1, n_users).astype(np.int64), 1, n_items // 4)
    gam = rng.gamma(topic_conc * n_topics * topic_size, 1.0, size=(n_users, n_topics)) + 1e-12
    theta = np.cumsum(gam, axis=1)
    theta /= theta[:, -1:]

    # Each user follows 4 authors from their own topics (weighted by reach).
    n_follow = 4
    a_order, a_starts = _group(author_topic, n_topics)
    f_user = np.repeat(np.arange(n_users), n_follow)
    f_topic = _offset_search(theta, f_user, rng.random(size=f_user.shape[0]))
    follows = _segment_search(
        a_order, a_starts, author_reach, f_topic, rng.random(f_user.shape[0])
    ).reshape(n_users, n_follow)

    # Likes: a mixture of popularity noise, followed authors and preferred topics.
    users = np.repeat(np.arange(n_users, dtype=np.int64), n_draws)
    n = users.shape[0]
    kind = rng.random(n)
    u = rng.random(n)
    items = np.empty(n, dtype=np.int64)

    is_noise = kind < noise
    pop_cum = np.cumsum(item_pop)
    items[is_noise] = np.minimum(
        np.searchsorted(pop_cum, u[is_noise] * pop_cum[-1], side="right"), n_items - 1
    )

    is_author = (kind >= noise) & (kind < noise + author_share)
    au = users[is_author]
    author = follows[au, rng.integers(0, n_follow, au.shape[0])]
    items[is_author] = _segment_search(author_order, author_starts, item_pop, author, u[is_author])

    is_topic = kind >= noise + author_share
    tu = users[is_topic]
    topic = _offset_search(theta, tu, np.asarray(rng.random(size=tu.shape[0])))
    items[is_topic] = _segment_search(topic_order, topic_starts, item_pop, topic, u[is_topic])

    topic_words = np.asarray(TOPICS, dtype=object)[item_topic]
    meta = pd.DataFrame(
        {
            "name": _names(rng, topic_words),
            "source": pd.array(author_ids[item_author], dtype="Int64"),
            "topic": topic_words,
        },
        index=pd.Index(np.arange(n_items, dtype=np.int64), name="raw_id"),
    )
    return Interactions(
        users=users,
        items=items,
        item_meta=meta,
        seen_users=np.arange(n_users, dtype=np.int64),
        seen_items=np.arange(n_items, dtype=np.int64),
        details={
            "scale": float(scale),
            "n_topics": n_topics,
            "n_authors": n_authors,
            "n_draws": int(n),
            "noise": noise,
            "author_share": author_share,
        },
    )
