"""Unfolded site frequency spectrum (SFS) of 0/1 haplotypes, compared across sample sizes.

The spectrum counts sites by how many haplotypes carry the ALT allele: entry ``j`` of the SFS of
``n`` haplotypes is the number of sites with ``j`` ALT copies, ``j = 0..n``. A synthetic cohort
usually has another number of haplotypes than the real one it is judged against, and the raw
spectra of different sample sizes are not comparable (a singleton among 5,000 haplotypes is not one
among 1,000). Both are therefore projected to a common sample size ``m`` by hypergeometric
sampling, as in dadi (Gutenkunst et al. 2009, PLoS Genetics 5: e1000695) and moments (Jouganous et
al. 2017, Genetics 206: 1549-1567; Marth et al. 2004, PNAS 101: 1007-1012): a site with ``j``
copies among ``n`` haplotypes has, among ``m`` haplotypes drawn without replacement,

    P(i | j, n, m) = C(j, i) C(n - j, m - i) / C(n, m)

copies, and the projected spectrum is ``Phi_m(i) = sum_j SFS_n(j) P(i | j, n, m)``: the expected
spectrum of a random subsample of ``m`` haplotypes. Projection keeps the number of sites and
leaves a spectrum of ``m == n`` unchanged.

ALT is whatever the VCF calls ALT: the spectrum is the derived-allele spectrum only where ALT is
the derived allele (true of the simulated cohorts, not of every real one).
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln

#: Copies compared by :func:`compare_sfs` by default: 1..10.
MAX_COPIES = 10
#: Rows of the projection computed at a time (bounds memory to ``BLOCK * (m + 1)`` floats).
BLOCK = 1024


def _binary_matrix(x: np.ndarray, what: str) -> np.ndarray:
    """``x`` as an array of 0/1 values, shape (haplotypes, variants), or a ValueError."""
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"{what}: expected a (haplotypes, variants) matrix, got shape {x.shape}")
    if not ((x == 0) | (x == 1)).all():
        raise ValueError(f"{what}: the site frequency spectrum needs 0/1 haplotypes")
    return x


def site_frequency_spectrum(x: np.ndarray, folded: bool = True) -> np.ndarray:
    """Number of sites per ALT (unfolded) or minor (folded) allele count.

    Args:
        x: 0/1 haplotypes, shape (n, n_variants).
        folded: Count the minor allele, min(k, n - k), instead of the ALT allele k.

    Returns:
        int64 counts, shape (n + 1,) unfolded or (n // 2 + 1,) folded; entry k is the number of sites
        whose (minor) allele appears in k haplotypes.
    """
    x = np.asarray(x)
    n = len(x)
    k = x.sum(axis=0).astype(np.int64)
    if folded:
        k = np.minimum(k, n - k)
    return np.bincount(k, minlength=(n // 2 + 1) if folded else n + 1)


def _log_binomial(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """log C(a, b), ``-inf`` where ``b < 0`` or ``b > a`` (broadcast)."""
    a, b = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(b, np.float64))
    out = np.full(a.shape, -np.inf)
    ok = (b >= 0) & (b <= a)
    out[ok] = gammaln(a[ok] + 1) - gammaln(b[ok] + 1) - gammaln(a[ok] - b[ok] + 1)
    return out


def projection_matrix(n: int, m: int, copies: np.ndarray | None = None) -> np.ndarray:
    """Hypergeometric projection probabilities P(i | j, n, m) from ``n`` to ``m`` haplotypes.

    Args:
        n: Haplotypes the spectrum was counted in.
        m: Haplotypes to project to, ``0 <= m <= n``.
        copies: The rows ``j`` wanted (ALT copies among ``n``); default all of ``0..n``.

    Returns:
        float64, shape (len(copies), m + 1): row ``r`` is the distribution of ALT copies among
        ``m`` haplotypes drawn without replacement from ``n`` of which ``copies[r]`` carry it
        (each row sums to 1).

    Raises:
        ValueError: ``m`` is not in ``0..n``.
    """
    if not 0 <= m <= n:
        raise ValueError(f"cannot project {n} haplotypes to {m}: need 0 <= m <= n")
    j = np.arange(n + 1) if copies is None else np.asarray(copies, dtype=np.int64)
    j, i = j[:, None], np.arange(m + 1)[None, :]
    log_p = _log_binomial(j, i) + _log_binomial(n - j, m - i) - _log_binomial(n, m)
    return np.exp(log_p)


def project_sfs(sfs: np.ndarray, m: int) -> np.ndarray:
    """The expected unfolded spectrum of ``m`` haplotypes drawn without replacement.

    Args:
        sfs: Unfolded spectrum of ``n`` haplotypes, shape (n + 1,): sites per ALT count ``0..n``.
        m: Haplotypes to project to, ``0 <= m <= n``.

    Returns:
        float64, shape (m + 1,): expected sites per ALT count ``0..m`` (same total as ``sfs``;
        equal to ``sfs`` when ``m == n``).

    Raises:
        ValueError: ``m`` is not in ``0..n``.
    """
    sfs = np.asarray(sfs, dtype=np.float64)
    n = len(sfs) - 1
    if not 0 <= m <= n:
        raise ValueError(f"cannot project {n} haplotypes to {m}: need 0 <= m <= n")
    out = np.zeros(m + 1)
    present = np.flatnonzero(sfs)
    for start in range(0, len(present), BLOCK):
        rows = present[start : start + BLOCK]
        out += sfs[rows] @ projection_matrix(n, m, rows)
    return out


def compare_sfs(
    real: np.ndarray,
    synthetic: np.ndarray,
    max_copies: int = MAX_COPIES,
    sample_size: int | None = None,
) -> dict[str, np.ndarray | int]:
    """Unfolded spectra of a real and a synthetic set at a common sample size, bin by bin.

    Args:
        real: Real 0/1 haplotypes, shape (n_real, n_variants).
        synthetic: Synthetic 0/1 haplotypes over the same variants, shape (n_synthetic, n_variants).
        max_copies: Highest ALT count compared (bins ``1..max_copies``, fewer when the common
            sample size is at most ``max_copies``: a bin ``i`` needs ``i < m``).
        sample_size: Common sample size ``m``; default the smaller set's size.

    Returns:
        ``sample_size`` (m), ``copies`` (int, shape (K,): ``1..K``), ``real`` and ``synthetic``
        (expected number of sites with that many ALT copies among m haplotypes, float64,
        shape (K,)) and ``relative_error`` ((synthetic - real) / real per bin, NaN where the real
        bin is empty).

    Raises:
        ValueError: The sets are not 0/1 matrices over the same number of variants, or
            ``sample_size`` exceeds a set's size.
    """
    real = _binary_matrix(real, "real")
    synthetic = _binary_matrix(synthetic, "synthetic")
    if real.shape[1] != synthetic.shape[1]:
        raise ValueError(f"real has {real.shape[1]} variants, synthetic has {synthetic.shape[1]}")
    m = min(len(real), len(synthetic)) if sample_size is None else int(sample_size)
    if not 1 <= m <= min(len(real), len(synthetic)):
        raise ValueError(
            f"sample_size {m}: must be 1..{min(len(real), len(synthetic))} (the smaller set)"
        )
    copies = np.arange(1, min(max_copies, m - 1) + 1)
    spectra = {
        name: project_sfs(site_frequency_spectrum(x, folded=False), m)[copies]
        for name, x in (("real", real), ("synthetic", synthetic))
    }
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(
            spectra["real"] > 0, (spectra["synthetic"] - spectra["real"]) / spectra["real"], np.nan
        )
    return {"sample_size": m, "copies": copies, **spectra, "relative_error": relative}


def rare_sfs(real: np.ndarray, synthetic: np.ndarray) -> dict[str, np.ndarray | int | float | None]:
    """:func:`compare_sfs` at the smaller set's size with two summaries of the bins at 1..10 copies:
    the rare variants a release carries, which a binned spectrum's distance hides among the
    common ones.

    Args:
        real: Real (held-out) 0/1 haplotypes, shape (n, n_variants).
        synthetic: The set compared, shape (m, n_variants), 0/1.

    Returns:
        What :func:`compare_sfs` returns, with ``max_abs_relative_error`` (over the bins with real
        sites; None when there are none) and ``total_relative_error`` (the sites at 1..K copies
        pooled: (synthetic − real) / real; None when the real bins are empty). At MAF ≥ 1% these
        bins hold few sites and their ratios are noise: read them beside a real set's.
    """
    cmp = compare_sfs(real, synthetic)
    rel = np.asarray(cmp["relative_error"], dtype=np.float64)
    ok = ~np.isnan(rel)
    real_total = float(np.sum(cmp["real"]))
    return {
        **cmp,
        "max_abs_relative_error": float(np.abs(rel[ok]).max()) if ok.any() else None,
        "total_relative_error": (
            (float(np.sum(cmp["synthetic"])) - real_total) / real_total if real_total > 0 else None
        ),
    }
