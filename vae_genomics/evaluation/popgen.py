"""Allele-frequency and linkage-disequilibrium (r²) agreement between two sets of haplotypes.

Inputs are matrices of shape (haplotypes, variants) with values in [0, 1]: 0/1 haplotypes, or decoder
probabilities (then the "allele frequency" is the mean probability and r² the squared correlation of
the expected allele dosages). Sites are compared by index, so both sets must cover the same variants.

LD is compared over a band of nearby pairs: every pair of variants (j, j + d) with offset
1 <= d <= ``max_offset`` in variant index (the evaluation layer sees no positions; a band in SNPs
matches the SNP-count sections). A pair is skipped where either site is monomorphic in either set,
since r² is undefined there; the number of pairs used is reported.
"""

from __future__ import annotations

import numpy as np

#: Default LD band: pairs up to this many variants apart.
LD_MAX_OFFSET = 20


def allele_frequencies(x: np.ndarray) -> np.ndarray:
    """ALT allele frequency (column mean) of each variant, shape (n_variants,), float64."""
    return np.asarray(x, dtype=np.float64).mean(axis=0)


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two vectors; NaN when fewer than 2 values or either is constant."""
    if len(a) < 2:
        return float("nan")
    a = a - a.mean()
    b = b - b.mean()
    denom = np.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / denom) if denom > 0 else float("nan")


def allele_frequency_agreement(reference: np.ndarray, candidate: np.ndarray) -> dict[str, float]:
    """How well ``candidate`` reproduces the per-site ALT frequencies of ``reference``.

    Args:
        reference: Real haplotypes, shape (n, n_variants).
        candidate: Haplotypes or probabilities, shape (m, n_variants).

    Returns:
        ``pearson_r`` of the two frequency vectors (NaN if either is constant), ``rmse`` and
        ``max_abs_diff`` (frequency units, in [0, 1]).
    """
    p = allele_frequencies(reference)
    q = allele_frequencies(candidate)
    if p.shape != q.shape:
        raise ValueError(f"reference has {p.size} variants, candidate has {q.size}")
    diff = q - p
    return {
        "pearson_r": _pearson(p, q),
        "rmse": float(np.sqrt(np.mean(diff**2))),
        "max_abs_diff": float(np.max(np.abs(diff))),
    }


def ld_r2_band(x: np.ndarray, max_offset: int = LD_MAX_OFFSET) -> np.ndarray:
    """Squared correlation r² of every variant with the next ``max_offset`` variants.

    Args:
        x: Haplotypes or probabilities, shape (n, n_variants).
        max_offset: Width of the band, in variants.

    Returns:
        float64 array of shape (n_variants, max_offset): entry [j, d - 1] is r² between variants j
        and j + d; NaN beyond the last variant or where either site is constant.
    """
    x = np.asarray(x, dtype=np.float64)
    n_variants = x.shape[1]
    centred = x - x.mean(axis=0)
    sd = np.sqrt((centred**2).mean(axis=0))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(sd > 1e-12, centred / np.where(sd > 1e-12, sd, 1.0), np.nan)
    band = np.full((n_variants, max_offset), np.nan)
    # one vectorised pass per offset (the band is narrow), not per pair of variants
    for d in range(1, min(max_offset, n_variants - 1) + 1):
        r = (z[:, :-d] * z[:, d:]).mean(axis=0)
        band[: n_variants - d, d - 1] = np.minimum(r**2, 1.0)
    return band


def ld_agreement(
    reference: np.ndarray, candidate: np.ndarray, max_offset: int = LD_MAX_OFFSET
) -> dict[str, float | int]:
    """Agreement of the r² of nearby variant pairs between ``reference`` and ``candidate``.

    Args:
        reference: Real haplotypes, shape (n, n_variants).
        candidate: Haplotypes or probabilities, shape (m, n_variants).
        max_offset: Band width in variants (module docstring).

    Returns:
        ``pearson_r`` and ``rmse`` of the r² values over the pairs defined in both sets,
        ``mean_r2_reference`` and ``mean_r2_candidate`` over those pairs, and ``n_pairs``.
        Values are NaN when no pair is defined in both (e.g. a candidate with every site constant).
    """
    a = ld_r2_band(reference, max_offset)
    b = ld_r2_band(candidate, max_offset)
    if a.shape != b.shape:
        raise ValueError(f"reference has {a.shape[0]} variants, candidate has {b.shape[0]}")
    both = ~np.isnan(a) & ~np.isnan(b)
    a, b = a[both], b[both]
    if a.size == 0:
        nan = float("nan")
        return {
            "pearson_r": nan,
            "rmse": nan,
            "mean_r2_reference": nan,
            "mean_r2_candidate": nan,
            "n_pairs": 0,
        }
    return {
        "pearson_r": _pearson(a, b),
        "rmse": float(np.sqrt(np.mean((a - b) ** 2))),
        "mean_r2_reference": float(a.mean()),
        "mean_r2_candidate": float(b.mean()),
        "n_pairs": int(a.size),
    }
