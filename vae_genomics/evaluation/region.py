"""Region evaluation: the panel over the whole region, and linkage across section boundaries.

Cross-boundary LD: for every boundary between section k and k + 1, every pair of sites (i, j) with i
in section k, j in a later section and 0 < pos_j - pos_i <= ``max_distance`` bp (so each pair is
counted once, by its left site). r² is the squared Pearson correlation of the two sites' alleles
over a set's haplotypes (NaN where either site is constant in that set). Against the real held-out
haplotypes, each set gets

- ``boundary_ld_r``: the Pearson correlation of its r² with the held-out r² over the pairs defined
  in both (the "boundary LD r");
- ``mean_r2`` per distance bin (bp) and over all pairs, beside the held-out ones.

Every set is compared at the size of the held-out set (r² from fewer haplotypes is noisier), and
the ceiling is the same numbers for a same-size sample of real *training* haplotypes: what a
perfect generator of the cohort would score. Independent per-section sampling is the floor
(its codes are unrelated across a boundary, so its cross-boundary r² falls towards 0). Per
boundary, each set's r is divided by the ceiling's (:func:`boundary_track`); a second real
sample, disjoint from the ceiling's, shows how often real haplotypes themselves keep 0.9 × of it
(:func:`second_sample_track`: both r are estimates).

The panel over the whole region is :func:`vae_genomics.evaluation.modeseek.mode_seeking_report` on
the concatenated sites (PCA fitted on the region's real training haplotypes, on at most
``pca_sites`` of its polymorphic sites evenly spaced along it — a chromosome's PCA on thinned
sites; coverage in PCA and Hamming space beside the ceiling, Hamming over every site), plus the
realism and privacy panel of :mod:`vae_genomics.evaluation.realism` (AATS, privacy loss, exact
training copies, LD decay) at one common size.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from vae_genomics.common.io import to_jsonable
from vae_genomics.evaluation.modeseek import mode_seeking_report
from vae_genomics.evaluation.pca import HaplotypePCA
from vae_genomics.evaluation.verdict import VerdictThresholds

log = logging.getLogger(__name__)

#: Bin edges (bp) of the cross-boundary LD by distance.
LD_BINS_BP = (0, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000)
#: Sites of the region's PCA at most (evenly spaced; a region of 36 sections has 40,160): the PCA of
#: every site with a full SVD took 89 s and 7.6 GB per fit on 4,003 haplotypes (BENCHMARKS.md,
#: "The region page's PCA").
PCA_SITES = 5000
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


def sfs_panel(x_val: np.ndarray, sets: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """Each set's unfolded SFS at 1..10 ALT copies against the held-out haplotypes', both projected
    to the smaller size (:func:`vae_genomics.evaluation.sfs.compare_sfs`): the rare variants.

    Returns:
        Per set: ``copies``, ``real``, ``synthetic``, ``relative_error`` and
        ``max_abs_relative_error`` (over the bins with real sites).
    """
    from vae_genomics.evaluation.sfs import compare_sfs

    out = {}
    for name, x in sets.items():
        cmp = compare_sfs(x_val, x)
        rel = np.asarray(cmp["relative_error"], dtype=np.float64)
        ok = ~np.isnan(rel)
        out[name] = {
            **cmp,
            "max_abs_relative_error": float(np.abs(rel[ok]).max()) if ok.any() else None,
        }
    return to_jsonable(out)


def _realism(
    sets: Mapping[str, np.ndarray], x_train: np.ndarray, x_val: np.ndarray, positions: np.ndarray,
    seed: int, max_points: int,
) -> dict[str, Any]:  # fmt: skip
    """The realism and privacy panel (:mod:`vae_genomics.evaluation.realism`) per set, and its
    ceiling, every set at one common size."""
    from vae_genomics.evaluation import realism

    size = realism.common_size(
        min(len(x) for x in sets.values()) if sets else len(x_val), len(x_val), len(x_train),
        max_points,
    )  # fmt: skip
    out = {"ceiling": realism.realism_ceiling(x_train, x_val, positions, seed=seed, size=size)}
    out["sets"] = {
        name: realism.realism_panel(x, x_train, x_val, positions, seed=seed, size=size)
        for name, x in sets.items()
    }
    return to_jsonable(out)


def evaluate_region(
    x_train: np.ndarray,
    x_val: np.ndarray,
    sets: Mapping[str, np.ndarray],
    positions: np.ndarray,
    offsets: Sequence[int],
    seed: int = 0,
    max_distance: int = 50_000,
    max_points: int = 2000,
    pca_sites: int | None = PCA_SITES,
) -> dict[str, Any]:
    """Every number of the region page (module docstring).

    Args:
        x_train: Real training haplotypes of the region, shape (n_train, n_sites).
        x_val: Real held-out haplotypes, shape (n_val, n_sites).
        sets: Name → synthetic haplotypes, shape (m, n_sites).
        positions: Positions of the sites, shape (n_sites,).
        offsets: Section starts plus the end, shape (K + 1,).
        seed: Seed of the subsampling.
        max_distance: Largest cross-boundary pair distance, bp.
        max_points: Cap on the held-out haplotypes compared (Hamming PRDC is quadratic).
        pca_sites: Polymorphic sites of the PCA at most, evenly spaced (None: every site).

    Returns:
        JSON-ready: ``panel`` (mode-seeking report: ceiling and sets), ``boundary_ld``,
        ``realism`` and ``summary`` (per set: coverage PCA/Hamming, boundary LD r and their
        fractions of the ceiling's, the fraction of boundaries at 0.9 × the ceiling's r, AATS,
        privacy loss and its SD over subset draws, exact-copy fraction, LD-decay MAE, largest SFS
        error at 1-10 copies), ``boundary_track`` and ``sfs``.
    """
    rng = np.random.default_rng(seed)
    x_val = np.asarray(x_val)
    if len(x_val) > max_points:
        x_val = x_val[np.sort(rng.choice(len(x_val), max_points, replace=False))]
    n = len(x_val)

    def same_size(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        return x if len(x) <= n else x[np.sort(rng.choice(len(x), n, replace=False))]

    x_train = np.asarray(x_train)
    chosen = np.arange(len(x_train))
    if len(x_train) > n:
        chosen = np.sort(rng.choice(len(x_train), n, replace=False))
    ceiling_sample = x_train[chosen]
    sized = {name: same_size(x) for name, x in sets.items()}
    pca = HaplotypePCA(VerdictThresholds().n_pcs, max_sites=pca_sites).fit(x_train)
    panel = mode_seeking_report(x_train, x_val, sized, pca, seed=seed, max_points=max_points)
    panel["settings"]["pca_sites"] = int(pca.keep_.sum())
    ld = boundary_ld(x_val, {CEILING: ceiling_sample, **sized}, positions, offsets, max_distance)
    realism = _realism(sized, x_train, x_val, positions, seed, max_points)
    track = boundary_track(ld)
    track["reference"] = second_sample_track(
        x_val, x_train, chosen, positions, offsets, max_distance, seed
    )
    sfs = sfs_panel(x_val, {CEILING: ceiling_sample, **sized})
    ceil_ld = ld["sets"][CEILING]["boundary_ld_r"]
    summary = {}
    for name in [CEILING, *sized]:
        stats = panel["ceiling"] if name == CEILING else panel["sets"][name]
        row = {
            "coverage_pca": stats["prdc_pca"]["coverage"],
            "coverage_hamming": stats["prdc_hamming"]["coverage"],
            "boundary_ld_r": ld["sets"][name]["boundary_ld_r"],
            "mean_boundary_r2": ld["sets"][name]["mean_r2"],
        }
        for key, ceiling_value in (
            ("coverage_pca", panel["ceiling"]["prdc_pca"]["coverage"]),
            ("coverage_hamming", panel["ceiling"]["prdc_hamming"]["coverage"]),
            ("boundary_ld_r", ceil_ld),
        ):
            value = row[key]
            row[f"{key}_fraction"] = value / ceiling_value if value and ceiling_value else None
        panel_row = realism["ceiling"] if name == CEILING else realism["sets"][name]
        row["aats"] = panel_row["aats_heldout"]
        row["privacy_loss"] = panel_row["privacy_loss"]
        row["privacy_loss_sd"] = panel_row.get("privacy_loss_sd")
        row["exact_copy_fraction"] = panel_row["exact_copy_fraction"]
        row["ld_decay_mae"] = panel_row["ld_decay"]["mae"]
        row["boundaries_at_target"] = (
            (track["reference"] or {}).get("at_target")
            if name == CEILING
            else track["sets"].get(name, {}).get("at_target")
        )
        row["sfs_max_relative_error"] = sfs[name]["max_abs_relative_error"]
        summary[name] = row
    return to_jsonable(
        {
            "n_reference": n,
            "mean_boundary_r2_reference": ld["reference"]["mean_r2"],
            "summary": summary,
            "panel": panel,
            "boundary_ld": ld,
            "boundary_track": track,
            "sfs": sfs,
            "realism": realism,
        }
    )
