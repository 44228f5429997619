"""Admixed haplotypes: ancestry tracts along a region and haplotypes spliced from source cohorts.

The tract model is the hybrid-isolation (single pulse) model of admixture: ``T`` generations ago
the sources mixed in proportions ``m_1 .. m_A``; since then each haplotype's ancestry switches at
the crossovers of its ``T`` meioses. Along the region, switch points form a Poisson process of
rate ``lambda = T * r`` per bp (``r``: crossovers per bp per generation, 1e-8 ≈ 1 cM/Mb by
default), and after each point the ancestry is drawn afresh from ``m`` (it may stay the same).
Tracts of ancestry ``a`` then have exponential lengths of mean ``1 / (lambda (1 - m_a))`` bp and
cover a fraction ``m_a`` of the genome (Gravel 2012, Genetics 191: 607-619, "Population genetics
models of local ancestry"; Pool & Nielsen 2009, Genetics 181: 711-719). Over a window of ``W`` bp
a haplotype holds on average ``1 + W lambda (1 - sum_a m_a^2)`` tracts (ends included), so the
mean tract length in the window is ``W / (1 + W lambda (1 - sum_a m_a^2))``.

A synthetic admixed haplotype takes, at each site, the allele of a synthetic haplotype of the
site's source population: ``splice`` of the sources' haplotypes (rows aligned) by the ancestry
matrix. All lengths are in bp.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from vae_genomics.data.packed import PackedHaplotypes

#: Crossovers per bp per generation of the default tract model (about 1 cM/Mb).
DEFAULT_RATE = 1e-8
#: Generations since admixture of the default tract model (of the order of African-American and
#: Latino cohorts' estimates, 6-15 generations).
DEFAULT_GENERATIONS = 10.0


@dataclass(frozen=True)
class Tracts:
    """Ancestry tracts of ``n`` haplotypes over ``[start, end)`` bp, sorted by haplotype then start;
    the tracts of one haplotype tile the window without gaps.

    Attributes:
        haplotype: Haplotype of each tract, int64, shape (n_tracts,).
        start: First bp of each tract (float64, continuous breakpoints), shape (n_tracts,).
        end: End of each tract (exclusive), shape (n_tracts,).
        ancestry: Source index of each tract (position in the proportions), shape (n_tracts,).
    """

    haplotype: np.ndarray
    start: np.ndarray
    end: np.ndarray
    ancestry: np.ndarray

    @property
    def length(self) -> np.ndarray:
        """Length of each tract in bp, float64, shape (n_tracts,)."""
        return self.end - self.start


def switch_rate(generations: float, rate: float = DEFAULT_RATE) -> float:
    """Ancestry switch points per bp: ``generations * rate``.

    Raises:
        ValueError: A negative or non-finite number of generations or rate.
    """
    for name, value in (("generations", generations), ("recombination rate", rate)):
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"the {name} must be a finite number >= 0, got {value}")
    return float(generations) * float(rate)


def check_proportions(proportions: np.ndarray) -> np.ndarray:
    """Proportions as float64, checked: at least two sources, each > 0, summing to 1 (± 1e-6).

    Raises:
        ValueError: Fewer than two sources, a proportion <= 0, or a sum other than 1.
    """
    m = np.asarray(proportions, dtype=np.float64)
    if m.ndim != 1 or len(m) < 2:
        raise ValueError(f"an admixture needs at least two sources, got {len(np.atleast_1d(m))}")
    if not np.all(np.isfinite(m)) or np.any(m <= 0):
        raise ValueError(f"every admixture proportion must be > 0, got {m.tolist()}")
    if abs(m.sum() - 1.0) > 1e-6:
        raise ValueError(f"the admixture proportions must sum to 1, they sum to {m.sum():g}")
    return m / m.sum()


def draw_tracts(
    n: int,
    start: float,
    end: float,
    proportions: np.ndarray,
    rate: float,
    rng: np.random.Generator,
) -> Tracts:
    """Draw the ancestry tracts of ``n`` haplotypes over ``[start, end)`` bp.

    Args:
        n: Number of haplotypes.
        start: First bp of the window.
        end: End of the window (exclusive), > ``start``.
        proportions: Source proportions ``m`` (:func:`check_proportions`), shape (A,).
        rate: Switch points per bp (:func:`switch_rate`).
        rng: Random generator.

    Returns:
        The tracts; consecutive segments of one ancestry are merged into one tract.
    """
    m = check_proportions(proportions)
    if not end > start:
        raise ValueError(f"the window must have end > start, got [{start}, {end})")
    counts = rng.poisson(rate * (end - start), size=n)
    points = rng.uniform(start, end, size=int(counts.sum()))
    owner = np.repeat(np.arange(n), counts)
    points = points[np.lexsort((points, owner))]
    # segments: each haplotype's window cut at its points; a fresh ancestry for every segment
    seg_owner = np.concatenate([np.arange(n), owner])
    seg_start = np.concatenate([np.full(n, float(start)), points])
    order = np.lexsort((seg_start, seg_owner))
    seg_owner, seg_start = seg_owner[order], seg_start[order]
    seg_ancestry = rng.choice(len(m), size=len(seg_owner), p=m)
    keep = np.ones(len(seg_owner), dtype=bool)  # a segment opens a tract unless it continues one
    keep[1:] = (seg_owner[1:] != seg_owner[:-1]) | (seg_ancestry[1:] != seg_ancestry[:-1])
    owner_t, start_t, ancestry_t = seg_owner[keep], seg_start[keep], seg_ancestry[keep]
    end_t = np.empty_like(start_t)
    end_t[:-1] = start_t[1:]
    last = np.ones(len(owner_t), dtype=bool)
    last[:-1] = owner_t[1:] != owner_t[:-1]
    end_t[last] = float(end)
    return Tracts(owner_t.astype(np.int64), start_t, end_t, ancestry_t.astype(np.int64))


def ancestry_at_sites(tracts: Tracts, n: int, positions: np.ndarray) -> np.ndarray:
    """The source of every haplotype at every site, int8, shape (n, n_sites).

    Args:
        tracts: Tracts of ``n`` haplotypes whose window holds every position.
        n: Number of haplotypes.
        positions: Site positions in bp, sorted, shape (n_sites,).
    """
    positions = np.asarray(positions, dtype=np.float64)
    lo = np.searchsorted(positions, tracts.start, side="left")
    hi = np.searchsorted(positions, tracts.end, side="left")
    out = np.repeat(tracts.ancestry.astype(np.int8), hi - lo)
    if out.size != n * len(positions):
        raise ValueError("the tracts' window does not hold every site position")
    return out.reshape(n, len(positions))


def splice(sources: list[np.ndarray], ancestry: np.ndarray) -> np.ndarray:
    """Admixed haplotypes: at each site the allele of the source the ancestry names.

    Args:
        sources: One haplotype matrix per source, each int8 0/1 of shape (n, n_sites).
        ancestry: Source index per haplotype and site, shape (n, n_sites).

    Returns:
        Haplotypes, int8 0/1, shape (n, n_sites).
    """
    out = np.empty(ancestry.shape, dtype=np.int8)
    for a, source in enumerate(sources):
        if source.shape != ancestry.shape:
            raise ValueError(f"source {a} has shape {source.shape}, expected {ancestry.shape}")
        here = ancestry == a
        out[here] = source[here]
    return out


def splice_in_blocks(
    sources: list[np.ndarray | PackedHaplotypes],
    tracts: Tracts,
    positions: np.ndarray,
    block: int,
) -> tuple[PackedHaplotypes, np.ndarray]:
    """:func:`splice` of the sources along :func:`ancestry_at_sites` of ``tracts``, a block of
    haplotypes at a time, into bits: a block's ancestry and sources' rows are all that is
    unpacked at once.

    Args:
        sources: One haplotype matrix per source, 0/1, shape (n, n_sites): arrays or bits.
        tracts: Tracts of the n haplotypes (sorted by haplotype), whose window holds every site.
        positions: Site positions in bp, sorted, shape (n_sites,).
        block: Haplotypes per block.

    Returns:
        The admixed haplotypes, shape (n, n_sites), one bit per call, and the number of sites of
        each source's ancestry summed over the haplotypes, int64, shape (n_sources,).
    """
    n, m = len(sources[0]), len(positions)
    out = PackedHaplotypes(n, m)
    counts = np.zeros(len(sources), dtype=np.int64)
    first = np.searchsorted(tracts.haplotype, np.arange(n + 1))  # each haplotype's first tract
    for r0 in range(0, n, block):
        r1 = min(n, r0 + block)
        t = slice(first[r0], first[r1])
        part = Tracts(tracts.haplotype[t] - r0, tracts.start[t], tracts.end[t], tracts.ancestry[t])
        ancestry = ancestry_at_sites(part, r1 - r0, positions)
        counts += np.bincount(ancestry.ravel(), minlength=len(sources))
        out.set_rows(r0, splice([source[r0:r1] for source in sources], ancestry))
    return out, counts


def expected_tracts(proportions: np.ndarray, rate: float, window: float) -> dict[str, Any]:
    """The tract model's expectations (module docstring): per-source mean tract length on a long
    chromosome, and the mean tract length of all tracts in a window of ``window`` bp.

    Returns:
        ``{"mean_tract_bp": ..., "mean_tract_bp_in_window": ..., "mean_tract_bp_by_source":
        [...], "tracts_per_haplotype": ...}`` (lengths in bp; ``None`` where infinite).
    """
    m = check_proportions(proportions)
    change = rate * (1.0 - float(np.sum(m**2)))
    per_source = [1.0 / (rate * (1.0 - a)) if rate > 0 else None for a in m]
    count = 1.0 + window * change
    return {
        "mean_tract_bp": 1.0 / change if change > 0 else None,
        "mean_tract_bp_in_window": window / count,
        "mean_tract_bp_by_source": per_source,
        "tracts_per_haplotype": count,
    }


def observed_tracts(tracts: Tracts, n_sources: int) -> dict[str, Any]:
    """What the drawn tracts hold: each source's share of the bp, the mean tract length overall and
    per source, and the tracts per haplotype (lengths in bp)."""
    lengths = tracts.length
    total = float(lengths.sum())
    by_source = [lengths[tracts.ancestry == a] for a in range(n_sources)]
    n_haplotypes = len(np.unique(tracts.haplotype))
    return {
        "proportions": [float(x.sum()) / total for x in by_source],
        "mean_tract_bp": float(lengths.mean()),
        "mean_tract_bp_by_source": [float(x.mean()) if len(x) else None for x in by_source],
        "tracts_per_haplotype": len(lengths) / max(n_haplotypes, 1),
    }
