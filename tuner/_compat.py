"""Dependencies' private internals that tuner relies on, behind one door.

Optuna, SciPy and llvmlite do not promise to keep these:

- Optuna: the RDB storage's SQLAlchemy models (``optuna.storages._rdb.models``), a study's
  storage (``Study._storage``), the RDB storage inside the cache that ``load_study`` wraps it
  in (``_CachedStorage._backend``) and the logger that reports failed trials
  (``optuna.study._optimize._logger``);
- SciPy: the C function pointers of its BLAS (``scipy.linalg.cython_blas.__pyx_capi__``);
- LLVM (through llvmlite): the name of the prefetch intrinsic, which depends on LLVM's pointer
  mangling.

Each accessor checks that the internal is where the tested versions (:data:`TESTED`) keep it.
When it is not, it warns with a :class:`CompatWarning` naming the internal, the installed
version and what tuner does without it, then falls back (or raises, where there is nothing to
fall back to); ``tests/test_compat.py`` fails on an installed version where any of them no
longer resolves. The version check warns once per dependency when the installed version is
outside the tested range, even where everything still resolves.
"""

from __future__ import annotations

import ctypes
import functools
import importlib
import importlib.metadata
import logging
import re
import warnings
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import optuna
    from optuna.storages import BaseStorage, RDBStorage

#: (oldest, newest) tested (major, minor) of each dependency whose internals are used here.
TESTED: dict[str, tuple[tuple[int, int], tuple[int, int]]] = {
    "optuna": ((4, 0), (5, 1)),
    "scipy": ((1, 10), (1, 17)),
    "llvmlite": ((0, 42), (0, 50)),
}

#: The logger through which Optuna reports a failed (or interrupted) trial.
OPTUNA_OPTIMIZE_LOGGER = "optuna.study._optimize"


class CompatWarning(UserWarning):
    """A dependency's private internal that tuner uses is missing or has moved."""


def _version(dist: str) -> tuple[int, int] | None:
    """``dist``'s installed (major, minor), e.g. (1, 17) for "1.17.1" or "1.17rc1"."""
    try:
        found = re.match(r"(\d+)\.(\d+)", importlib.metadata.version(dist))
    except importlib.metadata.PackageNotFoundError:
        return None
    return (int(found.group(1)), int(found.group(2))) if found else None


@functools.cache
def check_version(dist: str) -> bool:
    """True if ``dist``'s installed version is in its :data:`TESTED` range; warns once if not."""
    low, high = TESTED[dist]
    found = _version(dist)
    if found is not None and low <= found <= high:
        return True
    shown = "unknown" if found is None else f"{found[0]}.{found[1]}"
    warnings.warn(
        f"tuner uses private internals of {dist} and was tested with {dist} "
        f"{low[0]}.{low[1]} to {high[0]}.{high[1]}; {dist} {shown} is installed. If tuner "
        "misbehaves, install a tested version (see tuner/_compat.py for what is used).",
        CompatWarning,
        stacklevel=3,
    )
    return False


def _missing(dist: str, what: str, consequence: str) -> None:
    check_version(dist)
    found = _version(dist)
    shown = "unknown" if found is None else f"{found[0]}.{found[1]}"
    warnings.warn(
        f"{what} is missing in the installed {dist} {shown}: {consequence}.",
        CompatWarning,
        stacklevel=3,
    )


# --------------------------------------------------------------------------------- Optuna


#: The tables and columns of Optuna's RDB schema that tuner queries.
_RDB_COLUMNS = (
    ("TrialModel", "trial_id"),
    ("TrialModel", "study_id"),
    ("TrialModel", "state"),
    ("TrialHeartbeatModel", "trial_heartbeat_id"),
)


def optuna_rdb_models() -> ModuleType | None:
    """``optuna.storages._rdb.models`` (the RDB storage's tables), or None, with a warning."""
    check_version("optuna")
    try:
        models = importlib.import_module("optuna.storages._rdb.models")
    except ImportError:
        models = None
    if models is None or not all(
        hasattr(getattr(models, table, None), column) for table, column in _RDB_COLUMNS
    ):
        _missing(
            "optuna",
            "optuna.storages._rdb.models ("
            + ", ".join(f"{table}.{column}" for table, column in _RDB_COLUMNS)
            + ")",
            "trials whose worker died before their first heartbeat are not failed",
        )
        return None
    return models


def study_storage(study: optuna.Study) -> BaseStorage | None:
    """The storage a study reads and writes (``Study._storage``), or None, with a warning."""
    check_version("optuna")
    storage = getattr(study, "_storage", None)
    if storage is None:
        _missing("optuna", "Study._storage", "the storage of a study cannot be reached")
    return storage


def rdb_backend(storage: BaseStorage) -> RDBStorage | None:
    """The :class:`optuna.storages.RDBStorage` behind ``storage``, or None if it has none.

    ``optuna.load_study`` wraps an RDB storage in a cache (``_CachedStorage``), whose
    ``_backend`` is the database itself; journal and in-memory storages have no database.
    """
    from optuna.storages import RDBStorage

    if isinstance(storage, RDBStorage):
        return storage
    check_version("optuna")
    try:
        cached_storage = importlib.import_module("optuna.storages._cached_storage")
        cached = cached_storage._CachedStorage
    except (ImportError, AttributeError):
        cached = None
    if cached is None:
        _missing(
            "optuna",
            "optuna.storages._cached_storage._CachedStorage",
            "an RDB storage opened by load_study is not recognised as one",
        )
        return None
    if not isinstance(storage, cached):
        return None
    backend = getattr(storage, "_backend", None)
    if not isinstance(backend, RDBStorage):
        _missing(
            "optuna", "_CachedStorage._backend", "the database behind a study cannot be reached"
        )
        return None
    return backend


def optuna_optimize_logger() -> logging.Logger | None:
    """The logger through which ``Study.optimize`` reports failed trials, or None, with a
    warning.

    There is no fallback: a filter on a parent logger (``optuna``) does not see the records
    its children log, so a filter there would silently do nothing.
    """
    check_version("optuna")
    try:
        module = importlib.import_module(OPTUNA_OPTIMIZE_LOGGER)
    except ImportError:
        module = None
    logger = getattr(module, "_logger", None)
    if not isinstance(logger, logging.Logger):
        _missing(
            "optuna",
            f"the logger {OPTUNA_OPTIMIZE_LOGGER}._logger",
            "a trial stopped by Ctrl-C is logged with its whole traceback",
        )
        return None
    return logger


# ---------------------------------------------------------------------------------- SciPy


#: The C signatures tuner calls through ctypes, as SciPy's capsules name them: every argument
#: by pointer, integers as C ``int`` (LP64); ``d`` is SciPy's typedef of ``double``.
BLAS_SIGNATURES = {
    "dsyrk": "void (char *, char *, int *, int *, d *, d *, int *, d *, d *, int *)",
}


def _capsule_name(capsule: object) -> str:
    get_name = ctypes.pythonapi.PyCapsule_GetName
    get_name.restype = ctypes.c_char_p
    get_name.argtypes = [ctypes.py_object]
    return (get_name(capsule) or b"").decode()


def blas_function_address(name: str) -> int:
    """Address of the C function of SciPy's LP64 BLAS routine ``name`` (one of
    :data:`BLAS_SIGNATURES`), checked to have the signature tuner calls it with.

    Raises:
        ImportError: SciPy no longer exports it, or with another signature (there is no BLAS
            to fall back to).
    """
    check_version("scipy")
    from scipy.linalg import cython_blas

    capi = getattr(cython_blas, "__pyx_capi__", None)
    capsule = capi.get(name) if isinstance(capi, dict) else None
    signature = None
    if capsule is not None:
        # "__pyx_t_5scipy_6linalg_11cython_blas_d" -> "d"
        signature = re.sub(r"__pyx_t_\w*?cython_blas_", "", _capsule_name(capsule))
    if signature != BLAS_SIGNATURES[name]:
        what = f"scipy.linalg.cython_blas.__pyx_capi__[{name!r}]"
        if signature is not None:
            what += f" with the signature {BLAS_SIGNATURES[name]!r} (found {signature!r})"
        _missing("scipy", what, "the exact (Cholesky) solvers cannot call BLAS")
        low, high = TESTED["scipy"]
        raise ImportError(
            f"SciPy's BLAS routine {name!r} cannot be called through "
            "scipy.linalg.cython_blas.__pyx_capi__. Install a tested SciPy "
            f"({low[0]}.{low[1]} to {high[0]}.{high[1]})."
        )
    get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
    get_pointer.restype = ctypes.c_void_p
    get_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
    return int(get_pointer(capsule, _capsule_name(capsule).encode()))


# ------------------------------------------------------------------------------- llvmlite


#: How tuner declares the prefetch intrinsic; LLVM renames it to its own mangling when it
#: reads the IR (``llvm.prefetch.p0`` with opaque pointers, ``llvm.prefetch.p0i8`` before).
_PREFETCH_DECLARED = "llvm.prefetch.p0"


def _prefetch_probe() -> str | None:
    """Have LLVM read and verify a function calling the prefetch intrinsic as the kernels do;
    the name LLVM gives the intrinsic, or None if it is not one to LLVM."""
    import numba  # noqa: F401  (initialises LLVM for llvmlite.binding)
    from llvmlite import binding, ir

    module = ir.Module(name="prefetch_probe")
    i8p = ir.IntType(8).as_pointer()
    i32 = ir.IntType(32)
    declared = ir.Function(
        module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]), _PREFETCH_DECLARED
    )
    caller = ir.Function(module, ir.FunctionType(ir.VoidType(), [i8p]), "caller")
    builder = ir.IRBuilder(caller.append_basic_block())
    builder.call(declared, [caller.args[0], i32(0), i32(3), i32(1)])
    builder.ret_void()
    parsed = binding.parse_assembly(str(module))
    parsed.verify()
    names = [f.name for f in parsed.functions if f.name.startswith("llvm.prefetch.")]
    return names[0] if len(names) == 1 else None


@functools.cache
def prefetch_intrinsic_name() -> str | None:
    """The name of LLVM's prefetch intrinsic as the LLVM numba compiles with reads it, or None
    (with a warning) if that LLVM does not take tuner's declaration of it: the kernels then
    compile without prefetches, which changes their speed, not their results.
    """
    check_version("llvmlite")
    try:
        name = _prefetch_probe()
    except Exception:  # any failure means the same: no prefetch
        name = None
    if name is None:
        _missing(
            "llvmlite",
            f"the LLVM intrinsic {_PREFETCH_DECLARED}(ptr, i32, i32, i32)",
            "the SLIM kernel compiles without prefetches (same results, slower)",
        )
    return name


def _make_prefetch() -> Any:
    from llvmlite import ir
    from numba import types
    from numba.core import cgutils
    from numba.extending import intrinsic

    name = prefetch_intrinsic_name()

    @intrinsic
    def prefetch(typingctx: Any, arr: Any, idx: Any) -> Any:
        """``prefetch(arr, idx)`` in a numba kernel: hint the CPU to fetch the cache line of
        ``arr[idx]`` (read, keep in all levels); no load, no fault, no effect on results."""
        sig = types.void(arr, idx)

        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            if name is not None:
                ary = context.make_array(signature.args[0])(context, builder, args[0])
                ptr = cgutils.get_item_pointer(
                    context, builder, signature.args[0], ary, [args[1]], wraparound=False
                )
                i8p = ir.IntType(8).as_pointer()
                i32 = ir.IntType(32)
                fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
                fn = cgutils.get_or_insert_function(builder.module, fnty, name)
                # read (0), keep in all cache levels (3), data cache (1)
                builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])
            return context.get_dummy_value()

        return sig, codegen

    return prefetch


if TYPE_CHECKING:  # what the intrinsic looks like from the kernels

    def prefetch(arr: np.ndarray, idx: int) -> None:
        """Hint the CPU to fetch the cache line of ``arr[idx]`` (numba kernels only)."""


def __getattr__(name: str) -> Any:
    # ``prefetch`` is made on first use, so that the Optuna helpers do not import numba
    if name == "prefetch":
        value = _make_prefetch()
        globals()["prefetch"] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
