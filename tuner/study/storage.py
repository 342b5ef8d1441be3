"""Study storage from one URL: SQLite, PostgreSQL, or Optuna's journal file.

- ``sqlite:///PATH``: the embedded default (one file; fine for a few local workers).
- ``postgresql+psycopg://USER@HOST:PORT/DB``: many workers on many machines; ``postgresql://``
  and ``postgres://`` (SQLAlchemy's and libpq's spellings) mean the same.
- ``journal:///ABS/PATH.log`` (or ``journal://REL/PATH.log``): Optuna's append-only journal file,
  many processes on one machine without a server. It has no heartbeat, so a killed worker's
  trial stays RUNNING there.

RDB storages get pooled connections checked before use (``pool_pre_ping``: a connection dropped
during a 20-minute trial is replaced instead of failing the report) and heartbeats: a trial
whose worker stops beating for ``grace`` seconds is marked FAIL by the next worker that starts a
trial, and retried once with its parameters and intermediate values.

Only commands that create studies (``tuner study``, ``tuner run``) create a missing SQLite or
journal file, and a missing directory for it only under the embedded default's root
(``storage/``, see :func:`tuner.paths.tuner_home`): elsewhere a missing directory is far more
often a typo than a wish. Every other use refuses a missing file instead of leaving an empty
database behind.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from tuner.errors import StorageError
from tuner.paths import tuner_home

if TYPE_CHECKING:
    from optuna.storages import BaseStorage

SCHEMES = ("sqlite:///", "postgresql+psycopg://", "postgresql://", "postgres://", "journal://")
# spellings of PostgreSQL that mean the psycopg (3) driver, the one installed
_PG_ALIASES = ("postgresql://", "postgres://")
DEFAULT_HEARTBEAT = 60
MAX_RETRY = 1


def describe(url: str) -> str:
    """``url`` without a password, for messages and summaries."""
    if "://" in url and "@" in url.split("://", 1)[1].split("/", 1)[0]:
        scheme, rest = url.split("://", 1)
        creds, host = rest.split("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}@{host}"
    return url


def _check_file(path: Path, url: str, *, create: bool) -> None:
    """Refuse a storage file that is missing (unless ``create``) or whose directory is missing
    outside :func:`tuner_home`; make that directory inside it."""
    if path.is_dir():
        raise StorageError(
            f"Study storage {describe(url)!r} names the directory {str(path)!r}; "
            "pass a file in it, e.g. .../studies.db."
        )
    if path.exists():
        return
    if not create:
        raise StorageError(
            f"No study storage at {describe(url)!r}: {str(path)!r} does not exist. Check "
            "--storage (or $TUNER_STORAGE); 'tuner study' and 'tuner run' create one."
        )
    parent = path.parent.resolve()
    if parent.is_dir():
        return
    home = tuner_home()
    if parent == home or home in parent.parents:
        parent.mkdir(parents=True, exist_ok=True)
        return
    raise StorageError(
        f"Cannot create study storage {describe(url)!r}: the directory {str(parent)!r} does "
        f"not exist. Create it first (mkdir -p {parent}) or pass a file in an existing one."
    )


def open_storage(
    url: str, *, heartbeat: int | None = DEFAULT_HEARTBEAT, create: bool = False
) -> BaseStorage:
    """Open the storage behind ``url``.

    Args:
        url: see the module docstring.
        heartbeat: seconds between a running trial's heartbeats on RDB storages; a trial is
            stale after ``2 * heartbeat`` seconds without one. None disables heartbeats
            (read-only uses: export, dashboard, best).
        create: make a missing SQLite / journal file (commands that create studies); without
            it a missing file is refused.

    Raises:
        StorageError: unknown scheme, missing file, or unreachable / unusable storage.
    """
    import optuna
    import sqlalchemy.exc

    if url.startswith("journal://"):
        return _open_journal(url, create=create)
    if not url.startswith(SCHEMES):
        raise StorageError(
            f"Unknown storage URL {describe(url)!r}; use sqlite:///FILE, "
            "postgresql+psycopg://USER@HOST/DB or journal:///FILE."
        )
    for alias in _PG_ALIASES:
        if url.startswith(alias):
            url = "postgresql+psycopg://" + url[len(alias) :]
    engine_kwargs: dict[str, object] = {"pool_pre_ping": True}
    if url.startswith("sqlite:///"):
        path = url[len("sqlite:///") :]
        path = path.split("?", 1)[0]
        if path and path != ":memory:":
            _check_file(Path(path).expanduser(), url, create=create)
        # Several local workers share one SQLite file: wait for the write lock, don't fail.
        engine_kwargs["connect_args"] = {"timeout": 120}
    else:
        engine_kwargs["pool_recycle"] = 1800
        engine_kwargs["connect_args"] = {"connect_timeout": 10}
    try:
        if not create and not _has_optuna_tables(url, engine_kwargs):
            raise StorageError(
                f"Database {describe(url)!r} holds no Optuna studies (no Optuna tables). Check "
                "--storage (or $TUNER_STORAGE); 'tuner study' and 'tuner run' create them."
            )
        with warnings.catch_warnings():
            # Heartbeats and their retry callback are "experimental" since Optuna 2.8.
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            retry = None
            if heartbeat is not None:
                retry = optuna.storages.RetryHeartbeatStaleTrialCallback(
                    max_retry=MAX_RETRY, inherit_intermediate_values=True
                )
            return optuna.storages.RDBStorage(
                url,
                engine_kwargs=engine_kwargs,
                heartbeat_interval=heartbeat,
                grace_period=2 * heartbeat if heartbeat is not None else None,
                heartbeat_stale_trial_callback=retry,
            )
    except (sqlalchemy.exc.SQLAlchemyError, ImportError, ValueError, OSError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StorageError(
            f"Cannot open study storage {describe(url)!r}: {reason}. "
            "Check the URL, that the server runs and that the database exists."
        ) from None


def _has_optuna_tables(url: str, engine_kwargs: dict[str, object]) -> bool:
    """Whether the database already has Optuna's schema (RDBStorage would create it)."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(url, **engine_kwargs)
    try:
        return sqlalchemy.inspect(engine).has_table("version_info")
    finally:
        engine.dispose()


def _open_journal(url: str, *, create: bool) -> BaseStorage:
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock

    path = Path(url[len("journal://") :]).expanduser()
    if not path.name:
        raise StorageError(f"Storage URL {url!r} names no file; use journal:///PATH/FILE.log.")
    _check_file(path, url, create=create)
    try:
        # The open(O_EXCL) lock also works where symlinks do not (some network filesystems).
        backend = JournalFileBackend(str(path), lock_obj=JournalFileOpenLock(str(path)))
        return JournalStorage(backend)
    except OSError as exc:
        raise StorageError(
            f"Cannot open journal file {str(path)!r}: {exc.strerror}. "
            "Pass a writable path: journal:///DIR/FILE.log."
        ) from None
