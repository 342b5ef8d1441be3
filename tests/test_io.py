"""Atomic outputs: all or nothing, with the permissions any other written file would get."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tuner._io import atomic_dir, atomic_file, write_text_atomic


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("umask_022")
def test_outputs_get_the_umask_permissions_not_private_temp_ones(tmp_path: Path) -> None:
    write_text_atomic(tmp_path / "report.html", "<html></html>")
    with atomic_dir(tmp_path / "run") as d:
        (d / "inner.txt").write_text("x")
    assert mode(tmp_path / "report.html") == 0o644
    assert mode(tmp_path / "run") == 0o755
    assert (tmp_path / "run" / "inner.txt").read_text() == "x"


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    tmp_path = tmp_path / "outputs"
    write_text_atomic(tmp_path / "keep.json", "old")
    with pytest.raises(RuntimeError), atomic_file(tmp_path / "keep.json") as fh:
        fh.write("half")  # type: ignore[attr-defined]
        raise RuntimeError("boom")
    with pytest.raises(RuntimeError), atomic_dir(tmp_path / "out") as d:
        (d / "part.csv").write_text("half")
        raise RuntimeError("boom")
    assert (tmp_path / "keep.json").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.json"]
