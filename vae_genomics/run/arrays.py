"""A run's ``.npz`` files checked from their headers before any array is allocated.

``np.load`` trusts an ``.npy`` header: a ``haplotypes.npz`` of a megabyte whose header claims
16 million sites, or a ``gmm.npz`` claiming two million components, makes it allocate gigabytes
before the data runs out. Here each member's header (shape and dtype, read with
``numpy.lib.format``) is checked against what the run records (its sites and haplotypes in
``config.yaml``, its latent width and largest mixture) and against the zip's own sizes (an
array's bytes are what the zip says it inflates to, and deflate shrinks at most about 1,032:1).
Only then are the arrays read, and the mixture's values checked (finite, weights summing to 1,
positive-definite covariances).
"""

from __future__ import annotations

import math
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib import format as npy_format

from vae_genomics.run.directory import damaged

#: Most members of a run's ``.npz`` file.
MAX_MEMBERS = 64

#: Largest inflate ratio of a member (deflate's limit is about 1,032:1).
MAX_INFLATE_RATIO = 1100

#: Largest element of a text array, in bytes (4 per character): 16,384 characters.
MAX_ITEM_BYTES = 4 * 16384

Headers = dict[str, tuple[tuple[int, ...], np.dtype]]


def npz_headers(path: Path) -> Headers:
    """Shape and dtype of every array of an ``.npz`` file, from the headers only.

    Args:
        path: The file.

    Raises:
        RunError: Not a zip of ``.npy`` arrays, too many members, a header that is not an array's,
            or an array larger than its member or than deflate can inflate to.
    """
    out: Headers = {}
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if len(members) > MAX_MEMBERS:
                raise damaged(path, f"{len(members)} members, expected at most {MAX_MEMBERS}")
            for info in members:
                name = info.filename.removesuffix(".npy")
                with archive.open(info) as handle:
                    shape, dtype = _read_header(handle)
                    offset = handle.tell()
                _check_member(path, name, info, shape, dtype, offset)
                out[name] = (shape, dtype)
    except (zipfile.BadZipFile, ValueError, EOFError, OSError) as exc:
        raise damaged(path, exc) from None
    return out


def _read_header(handle: Any) -> tuple[tuple[int, ...], np.dtype]:
    version = npy_format.read_magic(handle)
    read = (
        npy_format.read_array_header_1_0 if version == (1, 0) else npy_format.read_array_header_2_0
    )
    shape, _, dtype = read(handle)
    return tuple(int(n) for n in shape), np.dtype(dtype)


def _check_member(
    path: Path, name: str, info: zipfile.ZipInfo, shape: tuple[int, ...], dtype: np.dtype,
    offset: int,
) -> None:  # fmt: skip
    if dtype.hasobject:
        raise damaged(path, f"array {name!r} holds Python objects, which are never loaded")
    if dtype.itemsize > MAX_ITEM_BYTES:
        raise damaged(path, f"array {name!r} has {dtype.itemsize:,}-byte elements")
    size = math.prod(shape) * dtype.itemsize
    if size + offset != info.file_size:
        raise damaged(
            path, f"array {name!r} claims shape {shape} ({size:,} bytes) but its member holds "
            f"{info.file_size - offset:,} bytes"
        )  # fmt: skip
    if info.file_size > MAX_INFLATE_RATIO * max(info.compress_size, 1) + 4096:
        raise damaged(path, f"member {name!r} claims to inflate {info.file_size:,} bytes from "
                      f"{info.compress_size:,}, more than deflate can")  # fmt: skip


def expect_shapes(path: Path, headers: Headers, expected: dict[str, tuple], what: str = "") -> None:
    """Refuse a missing array or one of another shape (``None`` in ``expected``: any length).

    Raises:
        RunError: Naming the first array, its shape and the expected one (for ``what``).
    """
    for name, shape in expected.items():
        if name not in headers:
            raise damaged(path, f"no array {name!r}")
        found = headers[name][0]
        same = len(found) == len(shape) and all(
            e is None or e == f for e, f in zip(shape, found, strict=True)
        )
        if not same:
            want = tuple("any" if e is None else e for e in shape)
            raise damaged(path, f"array {name!r} has shape {found}, expected {want}{what}")


def check_haplotypes_file(path: Path, expected: dict[str, Any] | None) -> Headers:
    """Check a run's ``haplotypes.npz`` against the run's record before it is read.

    Args:
        path: The file.
        expected: The run's recorded data (``n_haplotypes``, ``n_variants``), or None for a run
            that records none (the file's own ``shape`` array is used).

    Raises:
        RunError: An array of another size than the run's sites and haplotypes.
    """
    headers = npz_headers(path)
    expect_shapes(path, headers, {"shape": (2,)})
    if not np.issubdtype(headers["shape"][1], np.integer):
        raise damaged(path, "array 'shape' does not hold integers")
    if expected and all(isinstance(expected.get(k), int) for k in ("n_haplotypes", "n_variants")):
        n, sites = int(expected["n_haplotypes"]), int(expected["n_variants"])
    else:
        with np.load(path, allow_pickle=False) as z:
            n, sites = (int(v) for v in z["shape"])
    if n < 0 or sites < 0:
        raise damaged(path, f"a negative size ({n} haplotypes, {sites} sites)")
    per_site = {k: (sites,) for k in ("chrom", "positions", "variant_ids", "ref", "alt")}
    per_row = {k: (n,) for k in ("haplotype_ids", "haplotype_samples")}
    per_row.update({k: (n,) for k in ("populations", "superpopulations") if k in headers})
    packed = {"haplotypes_packed": (n, (sites + 7) // 8), "sample_ids": (None,)}
    what = f" for this run's {n:,} haplotypes and {sites:,} sites"
    expect_shapes(path, headers, {**packed, **per_site, **per_row}, what)
    return headers


def check_mixture_file(path: Path, latent_dim: int, max_components: int) -> Any:
    """Check a run's ``gmm.npz`` from its headers, then read it and check its values.

    Returns:
        ``(weights, means, covariances)``.

    Raises:
        RunError: Another latent width, more components than the run's configuration allows,
            or values that are no mixture (NaN or inf, negative weights or weights not summing to
            1, covariances that are not symmetric positive definite).
    """
    headers = npz_headers(path)
    k = headers.get("weights", ((0,), None))[0]
    if len(k) != 1 or not 1 <= k[0] <= max_components:
        raise damaged(path, f"{k} mixture weights; this run allows 1 to {max_components} "
                      "components (evaluation.gmm_max_components)")  # fmt: skip
    d = latent_dim
    shapes = {"means": (k[0], d), "covariances": (k[0], d, d)}
    expect_shapes(
        path, headers, shapes, f" for {k[0]} components of this run's {d} latent dimensions"
    )
    with np.load(path, allow_pickle=False) as z:
        weights, means, cov = (np.asarray(z[n], dtype=np.float64) for n in
                               ("weights", "means", "covariances"))  # fmt: skip
    for name, value in (("weights", weights), ("means", means), ("covariances", cov)):
        if not np.isfinite(value).all():
            raise damaged(path, f"its {name} hold NaN or infinite values")
    if (weights < 0).any() or abs(weights.sum() - 1) > 1e-6:
        raise damaged(path, f"its weights ({weights.sum():.6g} in all) are not a distribution "
                      "(non-negative, summing to 1)")  # fmt: skip
    try:
        if not np.allclose(cov, np.swapaxes(cov, 1, 2)):
            raise np.linalg.LinAlgError("not symmetric")
        np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        raise damaged(path, "its covariances are not symmetric positive definite (a negative "
                      "or zero variance)") from None  # fmt: skip
    return weights, means, cov
