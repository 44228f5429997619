"""Atomic writes and JSON conversion."""

import os
import stat

import numpy as np

from vae_genomics.common.io import atomic_write_text, to_jsonable


def test_atomic_writes_get_ordinary_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "a.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]  # no temporary file left behind


def test_to_jsonable():
    value = {"a": np.float32(1.5), "b": np.array([1, 2]), "c": float("nan"), "d": (np.bool_(True),)}
    assert to_jsonable(value) == {"a": 1.5, "b": [1, 2], "c": None, "d": [True]}
