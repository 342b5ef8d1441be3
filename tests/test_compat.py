"""tuner._compat: every private internal resolves on the installed versions, without a
warning; one that is missing warns with its name instead of failing silently."""

from __future__ import annotations

import ctypes
import logging
import sys
import types
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import optuna
import pytest
from numba import njit
from optuna.storages import JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from tuner import _compat
from tuner._compat import CompatWarning


@pytest.fixture(autouse=True)
def _fresh_checks() -> Iterator[None]:
    """Each test sees the version checks and the probe run again (they are cached)."""
    _compat.check_version.cache_clear()
    _compat.prefetch_intrinsic_name.cache_clear()
    yield
    _compat.check_version.cache_clear()
    _compat.prefetch_intrinsic_name.cache_clear()


@pytest.fixture()
def no_compat_warning() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompatWarning)
        yield


@pytest.fixture()
def rdb_study(tmp_path: Path) -> optuna.Study:
    url = f"sqlite:///{tmp_path / 'studies.db'}"
    optuna.create_study(study_name="s", storage=url)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        storage = RDBStorage(url, heartbeat_interval=60)
    return optuna.load_study(study_name="s", storage=storage)


# ------------------------------------------------------------------ resolve, no warnings


@pytest.mark.parametrize("dist", sorted(_compat.TESTED))
def test_installed_versions_are_tested(dist: str, no_compat_warning: None) -> None:
    assert _compat.check_version(dist)


def test_optuna_internals_resolve(rdb_study: optuna.Study, no_compat_warning: None) -> None:
    models = _compat.optuna_rdb_models()
    assert models is not None
    storage = _compat.study_storage(rdb_study)
    assert storage is not None
    backend = _compat.rdb_backend(storage)
    assert isinstance(backend, RDBStorage)
    assert _compat.rdb_backend(backend) is backend
    logger = _compat.optuna_optimize_logger()
    assert logger is not None
    assert logger.name == _compat.OPTUNA_OPTIMIZE_LOGGER


def test_storages_without_a_database_have_no_backend(
    tmp_path: Path, no_compat_warning: None
) -> None:
    journal = JournalStorage(JournalFileBackend(str(tmp_path / "studies.log")))
    assert _compat.rdb_backend(journal) is None
    in_memory = optuna.create_study()
    storage = _compat.study_storage(in_memory)
    assert storage is not None
    assert _compat.rdb_backend(storage) is None


def test_the_logger_is_the_one_optuna_reports_failed_trials_with(
    no_compat_warning: None,
) -> None:
    seen: list[logging.LogRecord] = []

    class Keep(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            seen.append(record)
            return False  # keep the test's output quiet

    logger = _compat.optuna_optimize_logger()
    assert logger is not None
    keep = Keep()
    logger.addFilter(keep)
    try:
        study = optuna.create_study()

        def fail(trial: optuna.trial.Trial) -> float:
            raise ValueError("boom")

        study.optimize(fail, n_trials=1, catch=(ValueError,))
    finally:
        logger.removeFilter(keep)
    assert any("boom" in r.getMessage() for r in seen)


def test_orphaned_trial_is_failed_through_the_rdb_internals(
    rdb_study: optuna.Study, no_compat_warning: None
) -> None:
    from tuner.study.worker import _fail_orphaned_trials

    storage = _compat.study_storage(rdb_study)
    assert storage is not None
    study_id = storage.get_study_id_from_name(rdb_study.study_name)
    orphan = storage.create_new_trial(study_id)  # RUNNING, never a heartbeat
    assert storage.get_trial(orphan).state == TrialState.RUNNING
    seen: dict[int, float] = {}
    _fail_orphaned_trials(rdb_study, 60.0, seen)  # seen once: within the grace period
    assert storage.get_trial(orphan).state == TrialState.RUNNING
    assert orphan in seen
    _fail_orphaned_trials(rdb_study, 0.0, seen)
    trial = storage.get_trial(orphan)
    assert trial.state == TrialState.FAIL
    assert "heartbeat" in trial.user_attrs["fail_reason"]


def test_blas_dsyrk_gives_numpys_result(no_compat_warning: None) -> None:
    address = _compat.blas_function_address("dsyrk")
    assert address != 0
    vp = ctypes.c_void_p
    dsyrk = ctypes.CFUNCTYPE(None, vp, vp, vp, vp, vp, vp, vp, vp, vp, vp)(address)
    rng = np.random.default_rng(0)
    n, k = 5, 3
    a = np.asfortranarray(rng.standard_normal((n, k)))
    c = np.asfortranarray(np.full((n, n), 2.0))
    uplo, trans = ctypes.c_char(b"L"), ctypes.c_char(b"N")
    n_, k_, lda, ldc = (ctypes.c_int(v) for v in (n, k, n, n))
    alpha, beta = ctypes.c_double(1.5), ctypes.c_double(0.5)

    def ref(x: object) -> int | None:
        return ctypes.cast(ctypes.byref(x), vp).value  # type: ignore[arg-type]

    dsyrk(
        ref(uplo), ref(trans), ref(n_), ref(k_), ref(alpha),
        a.ctypes.data, ref(lda), ref(beta), c.ctypes.data, ref(ldc),
    )  # fmt: skip
    want = 1.5 * a @ a.T + 0.5 * 2.0
    np.testing.assert_allclose(np.tril(c), np.tril(want), rtol=1e-12)
    np.testing.assert_array_equal(np.triu(c, 1), np.triu(np.full((n, n), 2.0), 1))


def _summing_kernel(prefetch: object) -> object:
    @njit
    def total(values: np.ndarray, order: np.ndarray) -> float:
        s = 0.0
        for i in range(order.shape[0]):
            if i + 4 < order.shape[0]:
                prefetch(values, order[i + 4])  # type: ignore[operator]
            s += values[order[i]]
        return s

    return total


def test_prefetch_kernel_compiles_and_leaves_results_unchanged(no_compat_warning: None) -> None:
    assert _compat.prefetch_intrinsic_name() is not None
    rng = np.random.default_rng(1)
    values = rng.standard_normal(1000)
    order = rng.permutation(1000)
    total = _summing_kernel(_compat.prefetch)
    assert total(values, order) == pytest.approx(values[order].sum(), rel=0, abs=1e-12)
    # the call is really there, not compiled away
    assert "llvm.prefetch" in "".join(total.inspect_llvm().values())  # type: ignore[attr-defined]


# ------------------------------------------------------------------------ missing: a warning


def test_version_outside_the_tested_range_warns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(_compat.TESTED, "optuna", ((0, 1), (0, 2)))
    with pytest.warns(CompatWarning, match=r"optuna 0\.1 to 0\.2"):
        assert not _compat.check_version("optuna")


def test_missing_rdb_models_warn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "optuna.storages._rdb.models", None)
    with pytest.warns(CompatWarning, match=r"optuna\.storages\._rdb\.models"):
        assert _compat.optuna_rdb_models() is None


def test_missing_rdb_column_warns(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = types.ModuleType("optuna.storages._rdb.models")
    fake.TrialModel = types.SimpleNamespace(trial_id=1, study_id=2, state=3)  # type: ignore[attr-defined]
    fake.TrialHeartbeatModel = types.SimpleNamespace()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "optuna.storages._rdb.models", fake)
    with pytest.warns(CompatWarning, match=r"TrialHeartbeatModel\.trial_heartbeat_id"):
        assert _compat.optuna_rdb_models() is None


def test_missing_study_storage_warns() -> None:
    with pytest.warns(CompatWarning, match=r"Study\._storage"):
        assert _compat.study_storage(types.SimpleNamespace()) is None  # type: ignore[arg-type]


def test_missing_cached_storage_warns(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    journal = JournalStorage(JournalFileBackend(str(tmp_path / "studies.log")))
    monkeypatch.setitem(sys.modules, "optuna.storages._cached_storage", None)
    with pytest.warns(CompatWarning, match=r"_CachedStorage"):
        assert _compat.rdb_backend(journal) is None


def test_missing_backend_warns(monkeypatch: pytest.MonkeyPatch, rdb_study: optuna.Study) -> None:
    storage = _compat.study_storage(rdb_study)
    monkeypatch.delattr(storage, "_backend")
    with pytest.warns(CompatWarning, match=r"_CachedStorage\._backend"):
        assert _compat.rdb_backend(storage) is None  # type: ignore[arg-type]


def test_missing_orphan_query_warns_and_leaves_trials(
    monkeypatch: pytest.MonkeyPatch, rdb_study: optuna.Study
) -> None:
    from tuner.study.worker import _fail_orphaned_trials

    storage = _compat.study_storage(rdb_study)
    assert storage is not None
    orphan = storage.create_new_trial(storage.get_study_id_from_name("s"))
    monkeypatch.setitem(sys.modules, "optuna.storages._rdb.models", None)
    with pytest.warns(CompatWarning, match=r"optuna\.storages\._rdb\.models"):
        _fail_orphaned_trials(rdb_study, 0.0, {})
    assert storage.get_trial(orphan).state == TrialState.RUNNING


@pytest.mark.parametrize("how", ["module", "attribute"])
def test_missing_optimize_logger_warns(monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    if how == "module":
        monkeypatch.setitem(sys.modules, _compat.OPTUNA_OPTIMIZE_LOGGER, None)
    else:
        monkeypatch.delattr(sys.modules[_compat.OPTUNA_OPTIMIZE_LOGGER], "_logger")
    with pytest.warns(CompatWarning, match=r"optuna\.study\._optimize\._logger"):
        assert _compat.optuna_optimize_logger() is None


def test_missing_blas_routine_warns_and_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    from scipy.linalg import cython_blas

    monkeypatch.setattr(cython_blas, "__pyx_capi__", {})
    with pytest.warns(CompatWarning, match=r"__pyx_capi__\['dsyrk'\]"):
        with pytest.raises(ImportError, match="dsyrk"):
            _compat.blas_function_address("dsyrk")


def test_blas_routine_with_another_signature_warns_and_raises(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from scipy.linalg import cython_blas

    capi = dict(cython_blas.__pyx_capi__)
    capi["dsyrk"] = capi["dgemm"]  # 13 arguments, not dsyrk's 10
    monkeypatch.setattr(cython_blas, "__pyx_capi__", capi)
    with pytest.warns(CompatWarning, match=r"dsyrk.*signature"):
        with pytest.raises(ImportError, match="dsyrk"):
            _compat.blas_function_address("dsyrk")


def test_missing_prefetch_intrinsic_warns_and_kernels_still_agree(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse() -> str | None:
        raise RuntimeError("this LLVM does not take the declaration")

    monkeypatch.setattr(_compat, "_prefetch_probe", refuse)
    with pytest.warns(CompatWarning, match=r"llvm\.prefetch"):
        prefetch = _compat._make_prefetch()
    rng = np.random.default_rng(2)
    values = rng.standard_normal(200)
    order = rng.permutation(200)
    total = _summing_kernel(prefetch)
    assert total(values, order) == pytest.approx(values[order].sum(), rel=0, abs=1e-12)
    assert "llvm.prefetch" not in "".join(total.inspect_llvm().values())  # type: ignore[attr-defined]
