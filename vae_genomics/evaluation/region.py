"""Region evaluation: the page's numbers over the whole region.

Linkage across the section boundaries (boundary LD r per set beside the real-vs-real ceiling, its
track per boundary, a second real sample's track) is :mod:`vae_genomics.evaluation.boundary_ld`.
The panel over the whole region is :func:`vae_genomics.evaluation.modeseek.mode_seeking_report` on
the concatenated sites (PCA fitted on the region's real training haplotypes, on at most
``pca_sites`` of its polymorphic sites evenly spaced along it — a chromosome's PCA on thinned
sites; coverage in PCA and Hamming space beside the ceiling, Hamming over every site), plus the
realism and privacy panel of :mod:`vae_genomics.evaluation.realism` (AATS, privacy loss, exact
training copies, LD decay) at one common size, and the SFS at 1-10 copies (:func:`sfs_panel`).
Every set is compared at the size of the held-out set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from vae_genomics.common.io import to_jsonable
from vae_genomics.evaluation.boundary_ld import (
    CEILING,
    boundary_ld,
    boundary_track,
    common_boundary_ld,
    second_sample_track,
)
from vae_genomics.evaluation.modeseek import mode_seeking_report
from vae_genomics.evaluation.pca import HaplotypePCA
from vae_genomics.evaluation.verdict import VerdictThresholds

#: Sites of the region's PCA at most (evenly spaced; a region of 36 sections has 40,160): the PCA of
#: every site with a full SVD took 89 s and 7.6 GB per fit on 4,003 haplotypes (BENCHMARKS.md,
#: "The region page's PCA").
PCA_SITES = 5000


def sfs_panel(x_val: np.ndarray, sets: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """Each set's unfolded SFS at 1..10 ALT copies against the held-out haplotypes', both projected
    to the smaller size (:func:`vae_genomics.evaluation.sfs.rare_sfs`): the rare variants.

    Returns:
        Per set: ``copies``, ``real``, ``synthetic``, ``relative_error``,
        ``max_abs_relative_error`` (over the bins with real sites) and ``total_relative_error``.
    """
    from vae_genomics.evaluation.sfs import rare_sfs

    return to_jsonable({name: rare_sfs(x_val, x) for name, x in sets.items()})


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


def _summary(
    panel: Mapping[str, Any], ld: Mapping[str, Any], realism: Mapping[str, Any],
    track: Mapping[str, Any], sfs: Mapping[str, Any], common: Mapping[str, Any] | None = None,
) -> dict[str, dict[str, Any]]:  # fmt: skip
    """The page's summary row per set, the ceiling first: its numbers beside the ceiling's (with
    ``common``, the boundary LD r over the common sites too)."""
    ceil_ld = ld["sets"][CEILING]["boundary_ld_r"]
    summary = {}
    for name in [CEILING, *panel["sets"]]:
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
        if common is not None:
            value, ceiling_value = (common["sets"][n]["boundary_ld_r"] for n in (name, CEILING))
            row["boundary_ld_r_common"] = value
            row["boundary_ld_r_common_fraction"] = (
                value / ceiling_value if value and ceiling_value else None
            )
        summary[name] = row
    return summary


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
        error at 1-10 copies; with rare sites, the boundary LD r over the sites with a held-out
        MAF ≥ 1% and its fraction), ``boundary_ld_common`` (:func:`~vae_genomics.evaluation.
        boundary_ld.common_boundary_ld`, None without rare sites), ``boundary_track`` and
        ``sfs``.
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
    common = common_boundary_ld(
        x_val, {CEILING: ceiling_sample, **sized}, positions, offsets, max_distance
    )
    summary = _summary(panel, ld, realism, track, sfs, common)
    return to_jsonable(
        {
            "n_reference": n,
            "mean_boundary_r2_reference": ld["reference"]["mean_r2"],
            "summary": summary,
            "panel": panel,
            "boundary_ld": ld,
            "boundary_ld_common": common,
            "boundary_track": track,
            "sfs": sfs,
            "realism": realism,
        }
    )
