"""Hamming distances between 0/1 haplotypes, in blocks of rows (numpy only).

Shared by generation (the copy guard) and evaluation (PRDC, privacy): the number of variants at
which two haplotypes differ.
"""

from __future__ import annotations

import numpy as np

#: Default number of rows per chunk of a distance matrix.
CHUNK_SIZE = 512


def as_binary(x: np.ndarray, name: str) -> np.ndarray:
    """``x`` as float32 after checking it is 2-D and holds only 0 and 1 (``name`` in the error)."""
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"{name} must be 2-D (haplotypes × variants), got shape {x.shape}")
    if x.size and not np.all((x == 0) | (x == 1)):
        raise ValueError(f"{name} must hold 0/1 haplotypes (Hamming distance)")
    return x.astype(np.float32)


def hamming_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamming distances between the rows of 0/1 ``a`` (n, d) and ``b`` (m, d), shape (n, m), float64.

    Computed as ``|a| + |b| - 2 a·b`` in float32 (exact for counts below 2^24).
    """
    a = np.asarray(a, dtype=np.float32)
    b = np.asarray(b, dtype=np.float32)
    d = a.sum(axis=1)[:, None] + b.sum(axis=1)[None, :] - 2.0 * (a @ b.T)
    return np.rint(np.maximum(d, 0.0)).astype(np.float64)


def nn_distances(
    a: np.ndarray,
    b: np.ndarray | None = None,
    exclude_self: bool = False,
    chunk_size: int = CHUNK_SIZE,
) -> np.ndarray:
    """Hamming distance from each row of ``a`` to its nearest row of ``b``.

    Memory is ``chunk_size * len(b)`` floats: the distance matrix is built a block of rows at a time.

    Args:
        a: 0/1 haplotypes, shape (n, n_variants).
        b: 0/1 haplotypes, shape (m, n_variants); ``a`` itself when None.
        exclude_self: With ``b`` None (or ``b is a``), skip each row's distance to itself (the
            nearest *other* row; an exact duplicate elsewhere still gives 0).
        chunk_size: Rows of ``a`` per block.

    Returns:
        Distances, shape (n,), float64 (number of differing variants).
    """
    same = b is None or b is a
    a = as_binary(a, "a")
    b = a if same else as_binary(b, "b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"a has {a.shape[1]} variants, b has {b.shape[1]}")
    if exclude_self and not same:
        raise ValueError("exclude_self needs b to be a (or None)")
    if exclude_self and len(a) < 2:
        raise ValueError("exclude_self needs at least 2 rows")
    if len(b) == 0:
        raise ValueError("b has no rows")
    out = np.empty(len(a))
    for start in range(0, len(a), chunk_size):
        stop = min(start + chunk_size, len(a))
        d = hamming_matrix(a[start:stop], b)
        if exclude_self:
            rows = np.arange(stop - start)
            d[rows, start + rows] = np.inf
        out[start:stop] = d.min(axis=1)
    return out


def nn_cross(
    a: np.ndarray, b: np.ndarray, chunk_size: int = CHUNK_SIZE
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest-row distances both ways from one pass over the distance matrix of ``a`` and ``b``.

    Equals ``(nn_distances(a, b), nn_distances(b, a))`` at half the matrix products.

    Args:
        a: 0/1 haplotypes, shape (n, n_variants).
        b: 0/1 haplotypes, shape (m, n_variants), m >= 1.
        chunk_size: Rows of ``a`` per block (memory ``chunk_size * m`` floats).

    Returns:
        Distances (variants), shapes (n,) and (m,), float64.
    """
    a, b = as_binary(a, "a"), as_binary(b, "b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"a has {a.shape[1]} variants, b has {b.shape[1]}")
    if len(a) == 0 or len(b) == 0:
        raise ValueError("both sets need rows")
    a_to_b = np.empty(len(a))
    b_to_a = np.full(len(b), np.inf)
    for start in range(0, len(a), chunk_size):
        d = hamming_matrix(a[start : start + chunk_size], b)
        a_to_b[start : start + len(d)] = d.min(axis=1)
        np.minimum(b_to_a, d.min(axis=0), out=b_to_a)
    return a_to_b, b_to_a
