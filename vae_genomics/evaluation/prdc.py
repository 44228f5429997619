"""Precision, recall, density and coverage (Naeem et al. 2020) with k nearest neighbours.

Real points X_1..X_N and generated points Y_1..Y_M; ``r(X_i)`` is the distance from X_i to its k-th
nearest other real point, ``r(Y_j)`` the same among the generated points:

    precision = 1/M  sum_j 1[exists i: d(Y_j, X_i) <= r(X_i)]      (Kynkäänniemi et al. 2019)
    recall    = 1/N  sum_i 1[exists j: d(X_i, Y_j) <= r(Y_j)]
    density   = 1/(kM) sum_j sum_i 1[d(Y_j, X_i) <= r(X_i)]
    coverage  = 1/N  sum_i 1[min_j d(X_i, Y_j) <= r(X_i)]

Balls are closed (``<=``), unlike the reference implementation's strict ``<``: haplotypes are often
exact duplicates, so a real haplotype's k-NN radius can be 0 and an exact copy must count as inside
its ball. For continuous points without ties the two conventions agree.

Two metrics: ``euclidean`` (e.g. in PCA space) and ``hamming``, the L1 distance ``sum_j |a_j - b_j|``
over variants. For 0/1 haplotypes it is the Hamming distance; when one side is 0/1 and the other holds
decoder probabilities it is the expected Hamming distance to a Bernoulli draw from those probabilities.

Distance matrices are computed in row chunks, so memory is ``chunk_size * M`` floats, not ``N * M``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy.spatial.distance import cdist

from vae_genomics.common.hamming import CHUNK_SIZE, hamming_matrix

Metric = Literal["euclidean", "hamming"]


def _is_binary(x: np.ndarray) -> bool:
    return bool(np.all((x == 0) | (x == 1)))


def _check(x: np.ndarray, metric: Metric, name: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"{name} must be 2-D (points × features), got shape {x.shape}")
    if metric == "hamming" and x.size and (x.min() < 0 or x.max() > 1):
        raise ValueError(f"hamming distance needs values in [0, 1]; {name} has values outside it")
    if metric not in ("euclidean", "hamming"):
        raise ValueError(f"unknown metric {metric!r}; expected 'euclidean' or 'hamming'")
    return x


def pairwise_distances(
    a: np.ndarray,
    b: np.ndarray,
    metric: Metric = "euclidean",
    a_binary: bool | None = None,
    b_binary: bool | None = None,
) -> np.ndarray:
    """Distances between the rows of ``a`` (n, d) and ``b`` (m, d), shape (n, m), float64.

    For ``hamming`` with a 0/1 operand the L1 distance is computed as a matrix product
    (``|x - y| = x + y - 2xy`` when x is 0 or 1 and y is in [0, 1]; in float32 when both are
    0/1, where the counts are exact), otherwise with
    :func:`scipy.spatial.distance.cdist`.

    Args:
        a: Points, shape (n, d).
        b: Points, shape (m, d).
        metric: ``euclidean`` or ``hamming`` (L1 over values in [0, 1]).
        a_binary: Whether ``a`` is 0/1 (checked when None).
        b_binary: Whether ``b`` is 0/1 (checked when None).
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if metric == "euclidean":
        return cdist(a, b, "euclidean")
    a_binary = _is_binary(a) if a_binary is None else a_binary
    b_binary = _is_binary(b) if b_binary is None else b_binary
    if a_binary and b_binary:  # integer counts: exact in float32, at half the product's time
        return hamming_matrix(a, b)
    if a_binary or b_binary:
        d = a.sum(axis=1)[:, None] + b.sum(axis=1)[None, :] - 2.0 * (a @ b.T)
        return np.maximum(d, 0.0)
    return cdist(a, b, "cityblock")


def kth_neighbour_distances(
    x: np.ndarray, k: int = 5, metric: Metric = "euclidean", chunk_size: int = CHUNK_SIZE
) -> np.ndarray:
    """Distance from each point to its k-th nearest *other* point of the same set.

    Args:
        x: Points, shape (n, d), n > k.
        k: Neighbour rank (1 = nearest other point).
        metric: ``euclidean`` or ``hamming``.
        chunk_size: Rows per chunk of the (n, n) distance matrix.

    Returns:
        Radii, shape (n,), in the metric's units (PCA units or variants).
    """
    x = _check(x, metric, "x")
    n = len(x)
    if not 1 <= k < n:
        raise ValueError(f"k must be in [1, {n - 1}] for {n} points, got {k}")
    binary = metric == "hamming" and _is_binary(x)
    radii = np.empty(n)
    for start in range(0, n, chunk_size):
        stop = min(start + chunk_size, n)
        d = pairwise_distances(x[start:stop], x, metric, binary, binary)
        rows = np.arange(stop - start)
        d[rows, start + rows] = np.inf  # a point is not its own neighbour
        radii[start:stop] = np.partition(d, k - 1, axis=1)[:, k - 1]
    return radii


def prdc(
    real: np.ndarray,
    fake: np.ndarray,
    k: int = 5,
    metric: Metric = "euclidean",
    chunk_size: int = CHUNK_SIZE,
) -> dict[str, float]:
    """Precision, recall, density and coverage of ``fake`` against ``real`` (module docstring).

    Args:
        real: Real points, shape (N, d), N > k.
        fake: Generated or decoded points, shape (M, d), M > k.
        k: Nearest-neighbour rank of the balls (Naeem et al. recommend 5).
        metric: ``euclidean`` or ``hamming``.
        chunk_size: Rows per chunk of the distance matrices.

    Returns:
        ``precision``, ``recall``, ``coverage`` in [0, 1] and ``density`` in [0, N/k]; density is
        about 1 when both sets come from the same distribution.
    """
    real = _check(real, metric, "real")
    fake = _check(fake, metric, "fake")
    if real.shape[1] != fake.shape[1]:
        raise ValueError(f"real has {real.shape[1]} features, fake has {fake.shape[1]}")
    r_real = kth_neighbour_distances(real, k, metric, chunk_size)
    r_fake = kth_neighbour_distances(fake, k, metric, chunk_size)
    real_binary = metric == "hamming" and _is_binary(real)
    fake_binary = metric == "hamming" and _is_binary(fake)

    precise = np.zeros(len(fake), dtype=bool)
    density_counts = np.zeros(len(fake))
    recalled = np.zeros(len(real), dtype=bool)
    covered = np.zeros(len(real), dtype=bool)
    for start in range(0, len(real), chunk_size):
        stop = min(start + chunk_size, len(real))
        d = pairwise_distances(real[start:stop], fake, metric, real_binary, fake_binary)
        inside_real = d <= r_real[start:stop, None]
        precise |= inside_real.any(axis=0)
        density_counts += inside_real.sum(axis=0)
        recalled[start:stop] = (d <= r_fake[None, :]).any(axis=1)
        covered[start:stop] = d.min(axis=1) <= r_real[start:stop]
    return {
        "precision": float(precise.mean()),
        "recall": float(recalled.mean()),
        "density": float(density_counts.sum() / (k * len(fake))),
        "coverage": float(covered.mean()),
    }
