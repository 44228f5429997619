"""Mutated run directories through ``sample`` and ``encode``: each one works (exit 0) or is
refused with a message (exit 2), never the catch-all "failed unexpectedly".

The run is the committed fixture (tests/fixtures/run_2026, written by an earlier release); each
case copies it and applies one seeded mutation to one of its files: truncation, byte flips, a
JSON or YAML value replaced by another type, a TSV row dropped or doubled, an array of an ``.npz``
replaced by one of another shape, dtype or with NaN, or the file removed.
"""

from __future__ import annotations

import io
import json
import logging
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from vae_genomics import cli

RUN = Path(__file__).parent / "fixtures" / "run_2026"
FILES = ("config.yaml", "split.json", "sites.tsv", "haplotypes.npz", "gmm.npz", "model.keras")
N_CASES = 96
ODD_VALUES = [None, -1, 0, 1e308, "x", [], {}, [1, 2], "../../etc", "a\nb"]


def _truncate(data: bytes, rng: np.random.Generator) -> bytes:
    return data[: int(rng.integers(0, max(1, len(data))))]


def _flip(data: bytes, rng: np.random.Generator) -> bytes:
    out = bytearray(data)
    for i in rng.integers(0, len(out), size=int(rng.integers(1, 9))):
        out[i] ^= 1 << int(rng.integers(0, 8))
    return bytes(out)


def _json_value(data: bytes, rng: np.random.Generator) -> bytes:
    obj = json.loads(data)
    key = list(obj)[int(rng.integers(0, len(obj)))]
    obj[key] = ODD_VALUES[int(rng.integers(0, len(ODD_VALUES)))]
    return json.dumps(obj).encode()


def _lines(data: bytes, rng: np.random.Generator) -> bytes:
    lines = data.decode().split("\n")
    i = int(rng.integers(0, len(lines)))
    if rng.random() < 0.5:
        del lines[i]
    else:
        lines.insert(i, lines[i])
    return "\n".join(lines).encode()


def _npz_array(data: bytes, rng: np.random.Generator) -> bytes:
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    key = list(arrays)[int(rng.integers(0, len(arrays)))]
    old = arrays[key]
    choice = int(rng.integers(0, 4))
    if choice == 0:
        arrays[key] = np.zeros((int(rng.integers(0, 4)),) * max(1, old.ndim), dtype=old.dtype)
    elif choice == 1:
        arrays[key] = old.astype(np.float64) * np.nan if old.dtype.kind in "fiu" else old[:1]
    elif choice == 2:
        arrays[key] = np.asarray(["x"] * max(1, old.size))
    else:
        del arrays[key]
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _zip_member(data: bytes, rng: np.random.Generator) -> bytes:
    """model.keras: one member of the archive replaced by bytes that flip a few bits of it."""
    source = zipfile.ZipFile(io.BytesIO(data))
    names = source.namelist()
    victim = names[int(rng.integers(0, len(names)))]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        for name in names:
            body = source.read(name)
            out.writestr(name, _flip(body, rng) if name == victim else body)
    return buffer.getvalue()


def _mutation(name: str, rng: np.random.Generator):
    kinds = ["truncate", "flip", "remove"]
    if name.endswith(".json"):
        kinds.append("value")
    if name.endswith((".tsv", ".yaml")):
        kinds.append("lines")
    if name.endswith(".npz"):
        kinds += ["array", "array"]
    if name.endswith(".keras"):
        kinds.append("member")
    return kinds[int(rng.integers(0, len(kinds)))]


APPLY = {"truncate": _truncate, "flip": _flip, "value": _json_value, "lines": _lines,
         "array": _npz_array, "member": _zip_member}  # fmt: skip


@pytest.mark.slow
def test_mutated_runs_are_used_or_refused_clearly(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    rng = np.random.default_rng(32)
    codes: dict[str, list[int]] = {}
    for case in range(N_CASES):
        run = tmp_path / f"case{case}"
        shutil.copytree(RUN, run)
        name = FILES[case % len(FILES)]
        kind = _mutation(name, rng)
        target = run / name
        if kind == "remove":
            target.unlink()
        else:
            target.write_bytes(APPLY[kind](target.read_bytes(), rng))
        command = (
            [
                "sample",
                str(run),
                "--n",
                "4",
                "--seed",
                "1",
                "--out",
                f"{run}-s.vcf.gz",
                "--privacy",
                "off",
            ]
            if case % 2 == 0
            else ["encode", str(run), "--out", f"{run}-codes.tsv"]
        )
        caplog.clear()
        code = cli.main(["-q", *command])
        where = (case, name, kind, command[0], caplog.text[-1500:])
        assert code in (0, 2), where
        assert "unexpectedly" not in caplog.text, where
        if code == 2:
            assert str(run) in caplog.text or name in caplog.text, where  # the file is named
        codes.setdefault(kind, []).append(code)
    assert {"truncate", "flip", "remove"} <= set(codes)
    every = [c for cs in codes.values() for c in cs]
    assert 0 in every and 2 in every  # some mutations are harmless, most are refused
