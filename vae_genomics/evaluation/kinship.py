"""Kinship between synthetic and real individuals: KING-robust coefficients and degree counts.

Synthetic individuals (haplotype rows 2i, 2i+1) against real ones, KING-robust (Manichaikul et al.
2010) in KING's degrees (:func:`king_robust`, :func:`kinship_counts`): a released duplicate or
first-degree relative of a training individual leaks much of that genome. Held-out individuals,
scored the same way against the training set, are the real reference (:func:`kinship_attack`).
Pure numpy; the kinship matrix is computed a block of rows at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from vae_genomics.common.hamming import CHUNK_SIZE

#: KING's degree thresholds on the kinship coefficient phi (Manichaikul et al. 2010): a pair is of
#: the first degree (from the top) whose lower bound phi exceeds.
KING_DEGREES: dict[str, float] = {
    "duplicate": 2.0**-1.5,  # duplicate / monozygotic twin: phi > 0.354
    "first": 2.0**-2.5,  # parent-offspring, full siblings: phi > 0.177
    "second": 2.0**-3.5,  # half-siblings, avuncular, grandparent: phi > 0.0884
    "third": 2.0**-4.5,  # first cousins: phi > 0.0442
}


def genotypes(haplotypes: np.ndarray) -> np.ndarray:
    """Genotypes of individuals made of consecutive haplotype rows (2i, 2i+1).

    Args:
        haplotypes: 0/1 haplotypes, shape (2k, n_variants).

    Returns:
        ALT allele counts in {0, 1, 2}, int8, shape (k, n_variants).
    """
    x = np.asarray(haplotypes)
    if x.ndim != 2 or len(x) % 2:
        raise ValueError(f"need an even number of haplotype rows (pairs), got shape {x.shape}")
    return (x[0::2].astype(np.int8) + x[1::2].astype(np.int8)).astype(np.int8)


def _king_blocks(
    g_a: np.ndarray, g_b: np.ndarray, between_family: bool, chunk_size: int
) -> Iterator[np.ndarray]:
    """KING-robust phi of ``chunk_size`` rows of ``g_a`` at a time against all of ``g_b``."""
    g_a, g_b = np.asarray(g_a), np.asarray(g_b)
    if g_a.ndim != 2 or g_b.ndim != 2 or g_a.shape[1] != g_b.shape[1]:
        raise ValueError(f"genotypes of shapes {g_a.shape} and {g_b.shape} do not pair up")
    for g in (g_a, g_b):
        if g.size and not np.all((g == 0) | (g == 1) | (g == 2)):
            raise ValueError("genotypes must be ALT allele counts 0, 1 or 2")
    n_sites = g_a.shape[1]
    c_b = g_b.astype(np.float32) - 1.0
    het_b = (g_b == 1).sum(axis=1).astype(np.float64)
    for start in range(0, len(g_a), chunk_size):
        block = g_a[start : start + chunk_size]
        het_a = (block == 1).sum(axis=1).astype(np.float64)[:, None]
        # exact in float32 below 2^24 sites; see king_robust for the identity
        numerator = (block.astype(np.float32) - 1.0) @ c_b.T + het_a + het_b[None, :] - n_sites
        with np.errstate(divide="ignore", invalid="ignore"):
            if between_family:
                low = np.minimum(het_a, het_b[None, :])
                phi = 0.5 + (2.0 * numerator - het_a - het_b[None, :]) / (4.0 * low)
            else:
                phi = numerator / (het_a + het_b[None, :])
        yield np.where(np.isfinite(phi), phi, np.nan)


def king_robust(
    g_a: np.ndarray,
    g_b: np.ndarray,
    *,
    between_family: bool = False,
    chunk_size: int = CHUNK_SIZE,
) -> np.ndarray:
    """KING-robust kinship coefficients of every pair of individuals (Manichaikul et al. 2010).

    For genotype vectors g_i, g_j in {0, 1, 2} (ALT allele counts) over L sites, with N_Aa,Aa the
    sites where both are heterozygous, N_AA,aa those where they carry opposite homozygotes, and
    N_Aa(i) the heterozygous sites of i::

        phi_ij = [N_Aa,Aa - 2 N_AA,aa] / [N_Aa(i) + N_Aa(j)]

    (``between_family=False``, the default). KING applies that form to pairs within a family; for
    pairs from different families it divides by the smaller heterozygosity instead
    (``between_family=True``)::

        phi_ij = 1/2 + [2 N_Aa,Aa - 4 N_AA,aa - N_Aa(i) - N_Aa(j)] / [4 min(N_Aa(i), N_Aa(j))]

    The two agree when N_Aa(i) = N_Aa(j). phi is 1/2 for duplicates, 1/4 for parent-offspring and
    full siblings, 1/8 for second-degree relatives, about 0 for unrelated individuals of one
    population (degrees: :data:`KING_DEGREES`). Monomorphic sites contribute nothing.

    Vectorised with one matrix product per block of rows: with c = g - 1 in {-1, 0, 1}, the dot
    product c_i·c_j counts same-homozygote sites minus opposite-homozygote ones, and the sites where
    both are homozygous number L - N_Aa(i) - N_Aa(j) + N_Aa,Aa, so
    N_Aa,Aa - 2 N_AA,aa = c_i·c_j + N_Aa(i) + N_Aa(j) - L.

    Args:
        g_a: Genotypes, shape (n_a, L), values in {0, 1, 2} (:func:`genotypes`).
        g_b: Genotypes, shape (n_b, L).
        between_family: Use KING's between-family normalisation (above).
        chunk_size: Rows of ``g_a`` per block (memory ``chunk_size * n_b`` floats).

    Returns:
        phi, float64, shape (n_a, n_b); NaN where the denominator is 0 (no heterozygous site).
    """
    blocks = list(_king_blocks(g_a, g_b, between_family, chunk_size))
    return np.concatenate(blocks) if blocks else np.zeros((0, np.shape(g_b)[0]))


def kinship_counts(
    g_a: np.ndarray,
    g_b: np.ndarray,
    *,
    between_family: bool = False,
    chunk_size: int = CHUNK_SIZE,
) -> dict[str, int]:
    """Pairs (one individual of ``g_a``, one of ``g_b``) per KING degree, without the full matrix.

    Args:
        g_a: Genotypes, shape (n_a, L), values in {0, 1, 2}.
        g_b: Genotypes, shape (n_b, L).
        between_family: Passed to :func:`king_robust`.
        chunk_size: Rows of ``g_a`` per block.

    Returns:
        Counts per key of :data:`KING_DEGREES`, in disjoint bins: ``duplicate`` (phi > 2^-1.5),
        ``first`` (2^-2.5 < phi <= 2^-1.5), ``second`` and ``third`` likewise. NaN pairs count in
        none.
    """
    bounds = [np.inf, *KING_DEGREES.values()]
    counts = dict.fromkeys(KING_DEGREES, 0)
    for phi in _king_blocks(g_a, g_b, between_family, chunk_size):
        phi = phi[~np.isnan(phi)]
        for (name, low), high in zip(KING_DEGREES.items(), bounds, strict=False):
            counts[name] += int(np.count_nonzero((phi > low) & (phi <= high)))
    return counts


def _individuals(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    return genotypes(x[: len(x) - len(x) % 2])


def kinship_attack(
    synthetic: np.ndarray,
    train: np.ndarray,
    heldout: np.ndarray,
    *,
    between_family: bool = False,
    chunk_size: int = CHUNK_SIZE,
) -> dict[str, Any]:
    """Relatives of training individuals among synthetic ones, beside the held-out reference.

    Individuals are consecutive haplotype rows (2i, 2i+1) of each set (an odd last row is left
    out). Where a set's rows are not ordered by sample (a random subsample, or a split by haplotype)
    its "individuals" pair unrelated haplotypes; one copied haplotype then shows as a first-degree
    relative, two as a duplicate. Held-out individuals, paired the same way, are the reference.

    Args:
        synthetic: 0/1 haplotypes, shape (m, n_variants).
        train: Training haplotypes, shape (n_train, n_variants).
        heldout: Held-out haplotypes, shape (n_heldout, n_variants).
        between_family: Passed to :func:`king_robust`.
        chunk_size: Individuals per block of the kinship matrix.

    Returns:
        ``set`` and ``heldout``: :func:`kinship_counts` against the training individuals;
        ``set_pairs`` and ``heldout_pairs``: the numbers of pairs compared.
    """
    g_train = _individuals(train)
    out: dict[str, Any] = {}
    for name, x in (("set", synthetic), ("heldout", heldout)):
        g = _individuals(x)
        out[name] = kinship_counts(g, g_train, between_family=between_family, chunk_size=chunk_size)
        out[f"{name}_pairs"] = len(g) * len(g_train)
    return out
