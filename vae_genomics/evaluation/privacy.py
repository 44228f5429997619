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

from typing import NamedTuple

import numpy as np

from vae_genomics.common.hamming import (
    CHUNK_SIZE,
    as_binary,
    hamming_matrix,
    nn_cross,
    nn_distances,
)

__all__ = [
    "DrawDistances",
    "aats",
    "draw_distances",
    "exact_copy_fraction",
    "hamming_matrix",
    "nn_distances",
    "privacy_loss",
    "privacy_loss_from_distances",
    "repeated_draw_distances",
]

Rows = np.ndarray


class DrawDistances(NamedTuple):
    """Nearest-neighbour distances (variants) of one privacy draw: a synthetic set S, a training
    subset T and a held-out set H of the same size n, each shape (n,).

    Everything the privacy loss and the distance attack read: both AATS and the attack's
    member and non-member scores come from five distance matrices (S·S, H·H, T·T, H·S, T·S).
    """

    synthetic_self: np.ndarray  # S to its nearest other S
    heldout_to_synthetic: np.ndarray  # H to its nearest S (the attack's non-members)
    synthetic_to_heldout: np.ndarray
    heldout_self: np.ndarray
    train_to_synthetic: np.ndarray  # T to its nearest S (the attack's members)
    synthetic_to_train: np.ndarray
    train_self: np.ndarray


def draw_distances(
    synthetic: np.ndarray,
    train_subset: np.ndarray,
    heldout: np.ndarray,
    chunk_size: int = CHUNK_SIZE,
) -> DrawDistances:
    """The :class:`DrawDistances` of one draw.

    Args:
        synthetic: 0/1 haplotypes, shape (n, n_variants), n >= 2.
        train_subset: Training haplotypes, shape (n, n_variants).
        heldout: Held-out haplotypes, shape (n, n_variants).
        chunk_size: Rows per block of the distance matrices.
    """
    for name, x in (("training subset", train_subset), ("held-out set", heldout)):
        if len(x) != len(synthetic):
            raise ValueError(
                f"AATS needs sets of the same size; got {len(synthetic)} synthetic haplotypes and "
                f"a {name} of {len(x)} (subsample the larger one)"
            )
    if len(synthetic) < 2:
        raise ValueError("AATS needs at least 2 haplotypes per set")
    h_s, s_h = nn_cross(heldout, synthetic, chunk_size)
    t_s, s_t = nn_cross(train_subset, synthetic, chunk_size)
    return DrawDistances(
        synthetic_self=nn_distances(synthetic, exclude_self=True, chunk_size=chunk_size),
        heldout_to_synthetic=h_s,
        synthetic_to_heldout=s_h,
        heldout_self=nn_distances(heldout, exclude_self=True, chunk_size=chunk_size),
        train_to_synthetic=t_s,
        synthetic_to_train=s_t,
        train_self=nn_distances(train_subset, exclude_self=True, chunk_size=chunk_size),
    )


#: Largest synthetic or held-out set whose whole distance matrices (float32, exact counts) are
#: made once for all the privacy draws of :func:`repeated_draw_distances` (3 × 3,000² × 4 bytes
#: at most, 108 MB); larger sets are compared draw by draw.
WHOLE_MAX_ROWS = 3000


def repeated_draw_distances(
    synthetic: np.ndarray,
    train: np.ndarray,
    heldout: np.ndarray,
    rows: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    chunk_size: int = CHUNK_SIZE,
) -> list[DrawDistances]:
    """The :class:`DrawDistances` of several draws from the same three sets.

    The draws of the synthetic and the held-out set overlap (a panel draws n of a set not much
    larger than n), so their distances among themselves and to each other are computed once, on
    the whole sets, and each draw reads its rows; the training draws (from a larger set) are
    compared draw by draw. Equal, bit for bit, to :func:`draw_distances` of each draw.

    Args:
        synthetic: 0/1 haplotypes, shape (m, n_variants).
        train: Training haplotypes, shape (n_train, n_variants).
        heldout: Held-out haplotypes, shape (h, n_variants).
        rows: Per draw, the distinct rows of (synthetic, held-out, training) it takes, n each.
        chunk_size: Rows per block of the distance matrices.
    """
    sizes_equal = all(len(s) == len(h) == len(t) for s, h, t in rows)
    if len(rows) < 2 or not sizes_equal or max(len(synthetic), len(heldout)) > WHOLE_MAX_ROWS:
        return [draw_distances(synthetic[s], train[t], heldout[h], chunk_size) for s, h, t in rows]
    synthetic, heldout = as_binary(synthetic, "synthetic"), as_binary(heldout, "heldout")
    d_ss = _whole_matrix(synthetic, synthetic, chunk_size)
    d_hh = _whole_matrix(heldout, heldout, chunk_size)
    d_hs = _whole_matrix(heldout, synthetic, chunk_size)
    out = []
    for s, h, t in rows:
        if len(s) < 2:
            raise ValueError("AATS needs at least 2 haplotypes per set")
        train_r, syn_r = train[t], synthetic[s]
        h_s = d_hs[np.ix_(h, s)]
        t_s, s_t = nn_cross(train_r, syn_r, chunk_size)
        out.append(
            DrawDistances(
                synthetic_self=_nearest_other(d_ss, s),
                heldout_to_synthetic=h_s.min(axis=1).astype(np.float64),
                synthetic_to_heldout=h_s.min(axis=0).astype(np.float64),
                heldout_self=_nearest_other(d_hh, h),
                train_to_synthetic=t_s,
                synthetic_to_train=s_t,
                train_self=nn_distances(train_r, exclude_self=True, chunk_size=chunk_size),
            )
        )
    return out


def _whole_matrix(a: np.ndarray, b: np.ndarray, chunk_size: int) -> np.ndarray:
    """Hamming distances of every row of ``a`` to every row of ``b``, (n, m) float32 (exact)."""
    return np.concatenate(
        [hamming_matrix(a[i : i + chunk_size], b).astype(np.float32)
         for i in range(0, len(a), chunk_size)]
    )  # fmt: skip


def _nearest_other(d: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Each of ``rows``' distance to its nearest other row among ``rows`` (a set's own matrix)."""
    block = d[np.ix_(rows, rows)]
    np.fill_diagonal(block, np.inf)
    return block.min(axis=1).astype(np.float64)


def _aats(d_ts: Rows, d_tt: Rows, d_st: Rows, d_ss: Rows) -> dict[str, float]:
    """AATS from the four nearest-neighbour distance vectors of the module docstring."""
    truth = float(np.mean(d_ts > d_tt))
    syn = float(np.mean(d_st > d_ss))
    return {"aats": (truth + syn) / 2.0, "aa_truth": truth, "aa_synthetic": syn}


def privacy_loss_from_distances(d: DrawDistances) -> dict[str, float]:
    """:func:`privacy_loss` of a draw whose distances are computed (``aats_heldout``,
    ``aats_train``, ``privacy_loss``)."""
    test = _aats(d.heldout_to_synthetic, d.heldout_self, d.synthetic_to_heldout, d.synthetic_self)
    train = _aats(d.train_to_synthetic, d.train_self, d.synthetic_to_train, d.synthetic_self)
    test, train = test["aats"], train["aats"]
    return {"aats_heldout": test, "aats_train": train, "privacy_loss": test - train}


def aats(synthetic: np.ndarray, real: np.ndarray, chunk_size: int = CHUNK_SIZE) -> dict[str, float]:
    """Nearest-neighbour adversarial accuracy of ``synthetic`` against ``real`` (module docstring).

    Args:
        synthetic: 0/1 haplotypes, shape (n, n_variants).
        real: 0/1 haplotypes, shape (n, n_variants) (the same number of rows, n >= 2).
        chunk_size: Rows per block of the distance matrices.

    Returns:
        ``aats``, ``aa_truth`` (real rows nearer another real row) and ``aa_synthetic``, in [0, 1].
    """
    synthetic = as_binary(synthetic, "synthetic")
    real = as_binary(real, "real")
    if len(synthetic) != len(real):
        raise ValueError(
            f"AATS needs sets of the same size; got {len(synthetic)} synthetic and {len(real)} real "
            "haplotypes (subsample the larger one)"
        )
    if len(real) < 2:
        raise ValueError("AATS needs at least 2 haplotypes per set")
    d_ts, d_st = nn_cross(real, synthetic, chunk_size)
    d_tt = nn_distances(real, exclude_self=True, chunk_size=chunk_size)
    d_ss = nn_distances(synthetic, exclude_self=True, chunk_size=chunk_size)
    return _aats(d_ts, d_tt, d_st, d_ss)


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
    return privacy_loss_from_distances(draw_distances(synthetic, train_subset, heldout, chunk_size))


def _row_keys(x: np.ndarray) -> list[bytes]:
    packed = np.packbits(np.asarray(x, dtype=np.uint8), axis=1)
    return [row.tobytes() for row in packed]


def exact_copy_fraction(candidate: np.ndarray, train: np.ndarray) -> float:
    """Fraction of ``candidate`` rows identical to some row of ``train`` (both 0/1, same variants)."""
    candidate = as_binary(candidate, "candidate")
    train = as_binary(train, "train")
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
