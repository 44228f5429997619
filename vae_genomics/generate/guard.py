"""A copy guard: keep generated haplotypes as far from the training set as unseen real ones are.

A generator that decodes codes drawn near a training haplotype's posterior can return haplotypes
nearer to the training set than real, unseen haplotypes are: the privacy loss and exact-copy
fraction of the panel (:mod:`~vae_genomics.evaluation.privacy`) measure it. Refusing every exact
copy would be wrong too: in a dense section many real haplotypes are exact copies of another one
(38–70% of held-out haplotypes on the 1000 Genomes sections of experiments/notebook/generators.md).

The guard matches distributions instead. Its target is the *leave-one-out* nearest-neighbour
Hamming distance of training haplotypes, d(x_i, train \\ {x_i}): how far a real haplotype the model
did not see lies from the rest of the training set (the held-out haplotypes are not used, so the
guard leaves them to the evaluation). From a pool of ``factor`` × n candidates it keeps n whose
nearest-training-neighbour distances follow that target: stratified by the target's quantile bins
(exact copies are their own bin, kept at the real rate), each bin gets its share, drawn at random;
a bin with too few candidates takes the rest from its nearest bins.
"""

from __future__ import annotations

import numpy as np

from vae_genomics.common.hamming import hamming_matrix, nn_distances

#: Training haplotypes whose leave-one-out distance estimates the target (at most).
TARGET_ROWS = 2000


def leave_one_out_distances(
    train: np.ndarray, rng: np.random.Generator, max_rows: int = TARGET_ROWS
) -> np.ndarray:
    """Hamming distance from (up to ``max_rows`` random) training haplotypes to the nearest *other*.

    Args:
        train: 0/1 training haplotypes, shape (n_train, n_variants), n_train >= 2.
        rng: Picks the rows when there are more than ``max_rows``.
        max_rows: Rows whose distance is computed (each against all of ``train``).

    Returns:
        Distances, shape (min(n_train, max_rows),), float64.
    """
    train = np.asarray(train)
    if len(train) < 2:
        raise ValueError("the copy guard needs at least 2 training haplotypes")
    rows = np.arange(len(train))
    if len(train) > max_rows:
        rows = np.sort(rng.choice(len(train), max_rows, replace=False))
    out = np.empty(len(rows))
    for start in range(0, len(rows), 256):
        block = rows[start : start + 256]
        d = hamming_matrix(train[block], train)
        d[np.arange(len(block)), block] = np.inf  # not itself (a duplicate elsewhere still counts)
        out[start : start + len(block)] = d.min(axis=1)
    return out


def quantile_bins(target: np.ndarray, n_bins: int) -> np.ndarray:
    """Bin edges (right-open, increasing) from the target's quantiles; 0 gets a bin of its own.

    Returns:
        Edges e_0 < e_1 < ... with e_0 = 0; bin k holds distances in [e_k, e_{k+1}), the last bin
        everything from the last edge up.
    """
    target = np.asarray(target, dtype=np.float64)
    inner = np.quantile(target, np.linspace(0, 1, n_bins + 1)[1:-1])
    return np.unique(np.concatenate([[0.0, 0.5], np.ceil(inner)]))


def select_matching(
    distances: np.ndarray, target: np.ndarray, n: int, rng: np.random.Generator
) -> np.ndarray:
    """Indices of ``n`` candidates whose distances follow the ``target`` distribution.

    Args:
        distances: Each candidate's nearest-training-neighbour distance, shape (m,), m >= n.
        target: Sample of the target distribution (e.g. :func:`leave_one_out_distances`).
        n: How many to keep.
        rng: Draws within each bin.

    Returns:
        ``n`` distinct indices into ``distances``, in random order.
    """
    distances = np.asarray(distances, dtype=np.float64)
    if len(distances) < n:
        raise ValueError(f"need at least {n} candidates, got {len(distances)}")
    edges = quantile_bins(target, n_bins=max(1, min(20, n // 10)))
    target_bin = np.searchsorted(edges, np.asarray(target, dtype=np.float64), side="right") - 1
    cand_bin = np.searchsorted(edges, distances, side="right") - 1
    quota = _largest_remainder(np.bincount(target_bin, minlength=len(edges)) / len(target), n)
    pools = [rng.permutation(np.flatnonzero(cand_bin == k)) for k in range(len(edges))]
    used = np.minimum(quota, [len(pool) for pool in pools])
    for k in np.flatnonzero(quota > used):  # a bin short of candidates: its nearest bins fill in
        need = int(quota[k] - used[k])
        for j in sorted(range(len(edges)), key=lambda j: (abs(j - k), -j)):  # ties: farther bin
            extra = min(need, len(pools[j]) - int(used[j]))
            used[j] += extra
            need -= extra
            if need == 0:
                break
    chosen = np.concatenate([pool[: used[k]] for k, pool in enumerate(pools)]).astype(np.int64)
    return rng.permutation(chosen)


def _largest_remainder(shares: np.ndarray, n: int) -> np.ndarray:
    """Integer quotas summing to ``n`` in proportion to ``shares`` (largest-remainder rounding)."""
    raw = shares * n
    quota = np.floor(raw).astype(np.int64)
    for k in np.argsort(-(raw - quota))[: n - int(quota.sum())]:
        quota[k] += 1
    return quota


def nearest_training_distances(candidates: np.ndarray, train: np.ndarray) -> np.ndarray:
    """Hamming distance from each candidate (m, n_variants) to its nearest training haplotype."""
    return nn_distances(candidates, train)
