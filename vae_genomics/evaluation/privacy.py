"""Nearest-neighbour privacy statistics of a generated haplotype set: AATS, privacy loss, exact copies.

All distances are Hamming distances between 0/1 haplotypes (the number of differing variants).

**Nearest-neighbour adversarial accuracy** (Yale et al. 2020, "Generation and evaluation of privacy
preserving synthetic health data", Neurocomputing 416): with a real set T and a synthetic set S of
the same size n, ``d_TS(i)`` is the distance from real haplotype i to its nearest synthetic one,
``d_TT(i)`` to its nearest *other* real one, and likewise ``d_ST`` and ``d_SS``::

    AA_truth = 1/n sum_i 1[d_TS(i) > d_TT(i)]
    AA_syn   = 1/n sum_j 1[d_ST(j) > d_SS(j)]
    AATS     = (AA_truth + AA_syn) / 2

AATS is the accuracy of a 1-nearest-neighbour classifier telling the two sets apart (leave one
out): about 0.5 when S is indistinguishable from T, near 1 when S is far from every real haplotype
(e.g. noise), near 0 when S copies T. Ties count as *not* distinguished (strict ``>``), as in the
published code of Yelmen et al. (2021, "Creating artificial human genomes using generative neural
networks", PLoS Genetics): with many exact duplicate haplotypes in a dense section, the real-vs-real
AATS then falls below 0.5, and the ceiling (the same number for a real set) is the reference.

**Privacy loss** (Yale et al. 2020) = AATS(held-out, S) - AATS(train, S), with a training subset
of the same size as the held-out set: a generator that memorises its training data sits closer to
the training haplotypes than to unseen ones, so AATS(train, S) drops and the loss rises; copies of
the training subset give AATS(train, S) = 0 (every distance a tie) and a loss equal to
AATS(held-out, S). About 0 means the generator treats seen and unseen haplotypes alike.
"""

from __future__ import annotations

import numpy as np

from vae_genomics.evaluation.prdc import CHUNK_SIZE

Rows = np.ndarray


def _binary(x: np.ndarray, name: str) -> np.ndarray:
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
    a = _binary(a, "a")
    b = a if same else _binary(b, "b")
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


def aats(synthetic: np.ndarray, real: np.ndarray, chunk_size: int = CHUNK_SIZE) -> dict[str, float]:
    """Nearest-neighbour adversarial accuracy of ``synthetic`` against ``real`` (module docstring).

    Args:
        synthetic: 0/1 haplotypes, shape (n, n_variants).
        real: 0/1 haplotypes, shape (n, n_variants) (the same number of rows, n >= 2).
        chunk_size: Rows per block of the distance matrices.

    Returns:
        ``aats``, ``aa_truth`` (real rows nearer another real row) and ``aa_synthetic``, in [0, 1].
    """
    synthetic = _binary(synthetic, "synthetic")
    real = _binary(real, "real")
    if len(synthetic) != len(real):
        raise ValueError(
            f"AATS needs sets of the same size; got {len(synthetic)} synthetic and {len(real)} real "
            "haplotypes (subsample the larger one)"
        )
    if len(real) < 2:
        raise ValueError("AATS needs at least 2 haplotypes per set")
    d_ts = nn_distances(real, synthetic, chunk_size=chunk_size)
    d_tt = nn_distances(real, exclude_self=True, chunk_size=chunk_size)
    d_st = nn_distances(synthetic, real, chunk_size=chunk_size)
    d_ss = nn_distances(synthetic, exclude_self=True, chunk_size=chunk_size)
    truth = float(np.mean(d_ts > d_tt))
    syn = float(np.mean(d_st > d_ss))
    return {"aats": (truth + syn) / 2.0, "aa_truth": truth, "aa_synthetic": syn}


def privacy_loss(
    synthetic: np.ndarray,
    train_subset: np.ndarray,
    heldout: np.ndarray,
    chunk_size: int = CHUNK_SIZE,
) -> dict[str, float]:
    """Privacy loss = AATS(held-out, synthetic) - AATS(train subset, synthetic) (Yale et al. 2020).

    Args:
        synthetic: 0/1 haplotypes, shape (n, n_variants).
        train_subset: Training haplotypes, shape (n, n_variants).
        heldout: Held-out haplotypes, shape (n, n_variants).
        chunk_size: Rows per block of the distance matrices.

    Returns:
        ``aats_heldout``, ``aats_train`` and ``privacy_loss`` (positive: closer to the training data
        than to unseen data).
    """
    test = aats(synthetic, heldout, chunk_size)["aats"]
    train = aats(synthetic, train_subset, chunk_size)["aats"]
    return {"aats_heldout": test, "aats_train": train, "privacy_loss": test - train}


def _row_keys(x: np.ndarray) -> list[bytes]:
    packed = np.packbits(np.asarray(x, dtype=np.uint8), axis=1)
    return [row.tobytes() for row in packed]


def exact_copy_fraction(candidate: np.ndarray, train: np.ndarray) -> float:
    """Fraction of ``candidate`` rows identical to some row of ``train`` (both 0/1, same variants)."""
    candidate = _binary(candidate, "candidate")
    train = _binary(train, "train")
    if candidate.shape[1] != train.shape[1]:
        raise ValueError(f"candidate has {candidate.shape[1]} variants, train {train.shape[1]}")
    if len(candidate) == 0:
        raise ValueError("candidate has no rows")
    known = set(_row_keys(train))
    return float(np.mean([key in known for key in _row_keys(candidate)]))


def quantiles(values: np.ndarray, qs: tuple[float, ...] = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9)) -> dict:
    """``{"q10": ..., ...}`` quantiles of ``values`` plus their ``mean`` (JSON-ready floats)."""
    values = np.asarray(values, dtype=np.float64)
    out = {f"q{round(q * 100):02d}": float(np.quantile(values, q)) for q in qs}
    out["mean"] = float(values.mean())
    return out
