"""Linkage across section boundaries: each set's cross-boundary r² against the held-out one's.

For every boundary between section k and k + 1, every pair of sites (i, j) with i in section k, j
in a later section and 0 < pos_j - pos_i <= ``max_distance`` bp (so each pair is counted once, by
its left site). r² is the squared Pearson correlation of the two sites' alleles over a set's
haplotypes (NaN where either site is constant in that set). Against the real held-out haplotypes,
each set gets

- ``boundary_ld_r``: the Pearson correlation of its r² with the held-out r² over the pairs defined
  in both (the "boundary LD r");
- ``mean_r2`` per distance bin (bp) and over all pairs, beside the held-out ones.

Every set is compared at the size of the held-out set (r² from fewer haplotypes is noisier), and
the ceiling (:data:`CEILING`) is the same numbers for a same-size sample of real *training*
haplotypes: what a perfect generator of the cohort would score. Independent per-section sampling
is the floor (its codes are unrelated across a boundary, so its cross-boundary r² falls towards
0). Per boundary, each set's r is divided by the ceiling's (:func:`boundary_track`); a second real
sample, disjoint from the ceiling's, shows how often real haplotypes themselves keep 0.9 × of it
(:func:`second_sample_track`: both r are estimates).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from vae_genomics.common.io import to_jsonable

#: Bin edges (bp) of the cross-boundary LD by distance.
LD_BINS_BP = (0, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000)
#: Name of the real-vs-real ceiling among the sets.
CEILING = "real training (ceiling)"


def _standardise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float64)
    centred = x - x.mean(axis=0)
    sd = np.sqrt((centred**2).mean(axis=0))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sd > 1e-12, centred / np.where(sd > 1e-12, sd, 1.0), np.nan)


def boundary_pairs(
    positions: np.ndarray, offsets: Sequence[int], max_distance: int = 50_000
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Cross-boundary site pairs per boundary (module docstring).

    Args:
        positions: 1-based positions of the region's sites, increasing, shape (n_sites,).
        offsets: Column where each section starts, plus the end, shape (K + 1,).
        max_distance: Largest distance of a pair, bp.

    Returns:
        Per boundary (K - 1 of them): ``(left, right, mask)``: left columns (in section k, within
        ``max_distance`` of the boundary), right columns (after the boundary, within reach), and the
        boolean (len(left), len(right)) mask of the pairs within ``max_distance``.
    """
    pos = np.asarray(positions, np.int64)
    out = []
    for k in range(1, len(offsets) - 1):
        b = int(offsets[k])
        left = np.arange(int(offsets[k - 1]), b)
        left = left[pos[left] >= pos[b] - max_distance]
        right = np.arange(b, len(pos))
        right = right[pos[right] <= pos[b - 1] + max_distance]
        dist = pos[right][None, :] - pos[left][:, None]
        out.append((left, right, (dist > 0) & (dist <= max_distance)))
    return out


def boundary_r2(
    x: np.ndarray, pairs: list[tuple[np.ndarray, np.ndarray, np.ndarray]]
) -> np.ndarray:
    """r² of every cross-boundary pair of :func:`boundary_pairs`, in their fixed order.

    Args:
        x: Haplotypes, shape (n, n_sites), 0/1.
        pairs: From :func:`boundary_pairs`.

    Returns:
        float64, shape (n_pairs,), NaN where either site is constant in ``x``.
    """
    z = _standardise(x)
    parts = []
    for left, right, mask in pairs:
        r = z[:, left].T @ z[:, right] / len(z)
        parts.append(np.minimum(r[mask] ** 2, 1.0))
    return np.concatenate(parts) if parts else np.zeros(0)


def pair_distances(
    positions: np.ndarray, pairs: list[tuple[np.ndarray, np.ndarray, np.ndarray]]
) -> tuple[np.ndarray, np.ndarray]:
    """Distance (bp) and boundary number (1..K-1) of every pair, in :func:`boundary_r2`'s order."""
    pos = np.asarray(positions, np.int64)
    dist, which = [], []
    for k, (left, right, mask) in enumerate(pairs, start=1):
        d = (pos[right][None, :] - pos[left][:, None])[mask]
        dist.append(d)
        which.append(np.full(len(d), k))
    if not dist:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(dist), np.concatenate(which)


def _pearson(a: np.ndarray, b: np.ndarray) -> float | None:
    if len(a) < 2 or a.std() == 0 or b.std() == 0:
        return None
    return float(np.corrcoef(a, b)[0, 1])


def boundary_ld(
    reference: np.ndarray,
    sets: Mapping[str, np.ndarray],
    positions: np.ndarray,
    offsets: Sequence[int],
    max_distance: int = 50_000,
    bins: Sequence[int] = LD_BINS_BP,
) -> dict[str, Any]:
    """Cross-boundary LD of each set against ``reference`` (module docstring).

    Args:
        reference: Real held-out haplotypes, shape (n, n_sites).
        sets: Name → haplotypes, shape (m, n_sites) (the ceiling among them).
        positions: Positions of the sites, shape (n_sites,).
        offsets: Section starts plus the end, shape (K + 1,).
        max_distance: Largest pair distance, bp.
        bins: Distance bin edges, bp.

    Returns:
        JSON-ready: ``n_pairs``, ``bins``, ``reference`` (mean r² per bin and overall), and per set
        ``boundary_ld_r``, ``mean_r2``, ``mean_r2_by_bin``, ``rmse``, ``n_pairs`` and
        ``boundary_ld_r_by_boundary``.
    """
    pairs = boundary_pairs(positions, offsets, max_distance)
    dist, which = pair_distances(positions, pairs)
    ref = boundary_r2(reference, pairs)
    edges = np.asarray(bins)
    bin_of = np.clip(np.searchsorted(edges, dist, side="left") - 1, 0, len(edges) - 2)

    def by_bin(values: np.ndarray, ok: np.ndarray) -> list[float | None]:
        return [
            float(values[ok & (bin_of == b)].mean()) if (ok & (bin_of == b)).any() else None
            for b in range(len(edges) - 1)
        ]

    ref_ok = ~np.isnan(ref)
    result: dict[str, Any] = {
        "n_pairs": len(ref),
        "max_distance": int(max_distance),
        "bins": [int(e) for e in edges],
        "reference": {
            "mean_r2": float(ref[ref_ok].mean()) if ref_ok.any() else None,
            "mean_r2_by_bin": by_bin(ref, ref_ok),
        },
        "sets": {},
    }
    for name, x in sets.items():
        r2 = boundary_r2(x, pairs)
        ok = ref_ok & ~np.isnan(r2)
        per_boundary = [
            _pearson(ref[ok & (which == k)], r2[ok & (which == k)])
            for k in range(1, len(pairs) + 1)
        ]
        result["sets"][name] = {
            "boundary_ld_r": _pearson(ref[ok], r2[ok]),
            "mean_r2": float(r2[ok].mean()) if ok.any() else None,
            "mean_r2_by_bin": by_bin(r2, ok),
            "rmse": float(np.sqrt(np.mean((r2[ok] - ref[ok]) ** 2))) if ok.any() else None,
            "n_pairs": int(ok.sum()),
            "boundary_ld_r_by_boundary": per_boundary,
        }
    return to_jsonable(result)


#: Minor-allele frequency in the held-out haplotypes of the sites :func:`common_boundary_ld`
#: keeps (the default of ``data.min_maf``).
COMMON_MAF = 0.01


def common_boundary_ld(
    reference: np.ndarray,
    sets: Mapping[str, np.ndarray],
    positions: np.ndarray,
    offsets: Sequence[int],
    max_distance: int = 50_000,
    min_maf: float = COMMON_MAF,
) -> dict[str, Any] | None:
    """:func:`boundary_ld` over the sites whose minor-allele frequency in ``reference`` is at
    least ``min_maf``, or None when every site is one (the number would repeat the all-sites one).

    With rare variants kept (``data.min_mac``) most cross-boundary pairs join rare sites, whose
    LD only the same lineage carries on both sides; this number tells whether the common
    haplotype structure crosses the boundaries as it does in a run at MAF ≥ 1%
    (experiments/notebook/rare-variants.md).

    Args:
        reference, sets, positions, offsets, max_distance: As :func:`boundary_ld`.
        min_maf: Smallest minor-allele frequency kept.

    Returns:
        What :func:`boundary_ld` returns, with ``n_sites`` and ``min_maf``; or None.
    """
    freq = np.asarray(reference).mean(axis=0)
    keep = np.flatnonzero(np.minimum(freq, 1 - freq) >= min_maf)
    if len(keep) == len(freq):
        return None
    starts = np.searchsorted(keep, np.asarray(offsets))
    ld = boundary_ld(
        np.asarray(reference)[:, keep], {name: np.asarray(x)[:, keep] for name, x in sets.items()},
        np.asarray(positions)[keep], starts, max_distance,
    )  # fmt: skip
    return {**ld, "n_sites": len(keep), "min_maf": float(min_maf)}


#: Fraction of the ceiling's boundary LD r a boundary must keep to meet the target.
BOUNDARY_TARGET = 0.9


def boundary_track(ld: Mapping[str, Any], target: float = BOUNDARY_TARGET) -> dict[str, Any]:
    """Each set's boundary LD r at every boundary as a fraction of the ceiling's there.

    Args:
        ld: From :func:`boundary_ld` (with the :data:`CEILING` set).
        target: Fraction of the ceiling a boundary must keep.

    Returns:
        Per set (the ceiling excluded): ``ratio`` per boundary (None where either r is undefined or
        the ceiling's is <= 0), ``at_target`` (fraction of the defined boundaries with ratio >=
        ``target``, None without any) and ``worst`` (indices of the five lowest ratios, lowest
        first).
    """
    ceiling = ld["sets"][CEILING]["boundary_ld_r_by_boundary"]
    out = {}
    for name, stats in ld["sets"].items():
        if name == CEILING:
            continue
        ratio = [
            r / c if r is not None and c is not None and c > 0 else None
            for r, c in zip(stats["boundary_ld_r_by_boundary"], ceiling, strict=True)
        ]
        defined = [(v, i) for i, v in enumerate(ratio) if v is not None]
        out[name] = {
            "ratio": ratio,
            "at_target": sum(v >= target for v, _ in defined) / len(defined) if defined else None,
            "worst": [i for _, i in sorted(defined)[:5]],
        }
    return {"target": target, "sets": out}


#: Name of the second real sample that :func:`second_sample_track` scores against the ceiling.
SECOND_SAMPLE = "real training (a second sample)"


def second_sample_track(
    x_val: np.ndarray,
    x_train: np.ndarray,
    ceiling_rows: np.ndarray,
    positions: np.ndarray,
    offsets: Sequence[int],
    max_distance: int,
    seed: int,
) -> dict[str, Any] | None:
    """The boundary track of a second same-size sample of real training haplotypes, disjoint from
    the ceiling's: what a perfect generator of the cohort scores against the ceiling. Both r are
    estimates from finite samples, so even real haplotypes miss the target at some boundaries
    (on the simulated chromosome, 83-100% of 35 boundaries keep 0.9 × over five draws).

    Args:
        x_val: The held-out haplotypes compared, shape (n, n_sites).
        x_train: Real training haplotypes, shape (n_train, n_sites).
        ceiling_rows: Rows of ``x_train`` in the ceiling's sample, shape (n,).
        positions, offsets, max_distance: As :func:`boundary_ld`.
        seed: Seed of the draw (its own stream: the page's other draws do not move).

    Returns:
        ``name``, ``ratio`` per boundary, ``at_target`` and ``worst`` (as :func:`boundary_track`),
        or None where the training set cannot give a second sample of the held-out size.
    """
    n = len(x_val)
    rest = np.setdiff1d(np.arange(len(x_train)), ceiling_rows)
    if len(rest) < n or len(ceiling_rows) < n:
        return None
    rows = np.sort(np.random.default_rng([seed, 2]).choice(rest, n, replace=False))
    ceiling = x_train[ceiling_rows]
    ld = boundary_ld(x_val, {CEILING: ceiling, SECOND_SAMPLE: x_train[rows]}, positions, offsets,
                     max_distance)  # fmt: skip
    return {"name": SECOND_SAMPLE, **boundary_track(ld)["sets"][SECOND_SAMPLE]}
