"""Judging the sets of :func:`~vae_genomics.evaluation.summary.evaluate_model`.

The realism and privacy panel of the generated sets beside its real-vs-real ceiling, the mode-seeking
numbers and verdicts of every set with an evaluation config's settings (shared with ``evaluate
--synthetic``), PCA-space coverage per population and the section's headline verdict.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from vae_genomics.config import EvaluationConfig
from vae_genomics.evaluation.modeseek import mode_seeking_report
from vae_genomics.evaluation.pca import HaplotypePCA
from vae_genomics.evaluation.prdc import kth_neighbour_distances, pairwise_distances
from vae_genomics.evaluation.realism import common_size, realism_ceiling, realism_panel
from vae_genomics.evaluation.verdict import VERDICTS, VerdictThresholds, headline

#: The generated sets that get the realism and privacy panel (reconstructions are not generated).
GENERATED_SETS = ("prior_samples", "generated_samples")


def thresholds_from_config(config: EvaluationConfig) -> VerdictThresholds:
    """The verdict thresholds of an evaluation config."""
    return VerdictThresholds(**config.verdict.model_dump())


def coverage_by_group(
    reference: np.ndarray, candidate: np.ndarray, groups: np.ndarray, k: int = 5
) -> dict[str, dict[str, float | int]]:
    """Coverage (Naeem et al. 2020) of each group of reference points, Euclidean.

    A reference point is covered when its nearest candidate lies within the distance to its k-th
    nearest other reference point (closed ball, as in :func:`~vae_genomics.evaluation.prdc.prdc`).

    Args:
        reference: Real points, shape (N, d), N > k.
        candidate: Generated or decoded points, shape (M, d).
        groups: Group label of each reference point, shape (N,).
        k: Neighbour rank of the radii.

    Returns:
        ``{group: {"n": count, "coverage": fraction covered}}`` in sorted group order.
    """
    radii = kth_neighbour_distances(reference, k, "euclidean")
    nearest = pairwise_distances(reference, candidate, "euclidean").min(axis=1)
    covered = nearest <= radii
    groups = np.asarray(groups).astype(str)
    return {
        g: {"n": int((groups == g).sum()), "coverage": float(covered[groups == g].mean())}
        for g in sorted(set(groups))
    }


def judge_sets(
    x_train: np.ndarray,
    x_heldout: np.ndarray,
    sets: dict[str, np.ndarray],
    pca: HaplotypePCA,
    config: EvaluationConfig,
    rng: np.random.Generator,
    privacy: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """The mode-seeking numbers and verdicts of ``sets`` with an evaluation config's settings.

    Args:
        x_train: Real training haplotypes.
        x_heldout: Real held-out haplotypes compared.
        sets: Set name → haplotypes or probabilities, each (n, n_variants).
        pca: PCA fitted on the real training haplotypes.
        config: ``prdc_k``, ``ld_max_offset``, ``max_points`` and the verdict thresholds.
        rng: The mode-seeking stream.
        privacy: Set name → its realism and privacy panel (feeds the verdicts).

    Returns:
        What :func:`~vae_genomics.evaluation.modeseek.mode_seeking_report` returns.
    """
    return mode_seeking_report(
        x_train,
        x_heldout,
        sets,
        pca=pca,
        thresholds=thresholds_from_config(config),
        k=config.prdc_k,
        ld_max_offset=config.ld_max_offset,
        max_points=config.max_points,
        seed=rng,
        privacy=privacy,
    )


def judge_with_coverage(
    x_train: np.ndarray,
    x_heldout: np.ndarray,
    sets: dict[str, np.ndarray],
    pca: HaplotypePCA,
    config: EvaluationConfig,
    rng: dict[str, np.random.Generator],
    summary: dict[str, Any],
    populations: np.ndarray | None,
) -> dict[str, Any]:
    """The mode-seeking report of the "after" sets, with coverage per population when labelled.

    Args:
        x_train: Real training haplotypes.
        x_heldout: Held-out haplotypes compared.
        sets: The "after" sets.
        pca: PCA fitted on the real training haplotypes.
        config: The evaluation config.
        rng: The ``modeseek`` stream.
        summary: Its ``realism`` panels feed the verdicts.
        populations: Population label of each held-out haplotype, or None.

    Returns:
        The summary's ``modeseek``.
    """
    modeseek = judge_sets(
        x_train, x_heldout, sets, pca, config, rng["modeseek"], summary["realism"]["sets"]
    )
    if populations is not None:
        add_population_coverage(modeseek, pca, x_heldout, sets, populations, config)
    return modeseek


def add_population_coverage(
    modeseek: dict[str, Any],
    pca: HaplotypePCA,
    x_heldout: np.ndarray,
    sets: dict[str, np.ndarray],
    populations: np.ndarray,
    config: EvaluationConfig,
) -> None:
    """Add ``coverage_by_population`` to each set of ``modeseek``, in its PCA space.

    Args:
        modeseek: The mode-seeking report (changed in place).
        pca: PCA fitted on the real training haplotypes.
        x_heldout: Held-out haplotypes compared.
        sets: The "after" sets.
        populations: Population label of each held-out haplotype.
        config: ``prdc_k``.
    """
    n_pcs = modeseek["settings"]["n_pcs"]
    ref_coords = pca.transform(x_heldout)[:, :n_pcs]
    for name, x in sets.items():
        modeseek["sets"][name]["coverage_by_population"] = coverage_by_group(
            ref_coords, pca.transform(x)[:, :n_pcs], populations, config.prdc_k
        )


def headline_verdicts(modeseek: dict[str, Any]) -> dict[str, Any]:
    """The verdict of each set, the worst of them and the section's headline verdict.

    Args:
        modeseek: The mode-seeking report.

    Returns:
        ``verdicts``, ``worst`` and ``headline`` of the summary.
    """
    verdicts = {name: s["verdict"]["verdict"] for name, s in modeseek["sets"].items()}
    worst = max(verdicts, key=lambda name: VERDICTS.index(verdicts[name]))
    return {
        "verdicts": verdicts,
        "worst": {"set": worst, "verdict": verdicts[worst]},
        "headline": headline(verdicts),
    }


def generated_realism(
    sets: dict[str, np.ndarray],
    x_train: np.ndarray,
    x_heldout: np.ndarray,
    positions: np.ndarray | None,
    config: EvaluationConfig,
    rng: dict[str, np.random.Generator],
) -> dict[str, Any]:
    """The realism and privacy panel of the :data:`GENERATED_SETS`, beside its real-vs-real ceiling.

    Args:
        sets: The "after" sets.
        x_train: Real training haplotypes.
        x_heldout: Held-out haplotypes compared.
        positions: Site positions for the LD decay, or None.
        config: ``max_points``.
        rng: The ``realism`` stream.

    Returns:
        ``ceiling`` and ``sets`` (set name → panel).
    """
    n_ref = len(x_heldout)
    size = common_size(n_ref, n_ref, len(x_train), config.max_points)
    stream = rng["realism"]
    return {
        "ceiling": realism_ceiling(x_train, x_heldout, positions, seed=stream, size=size),
        "sets": {
            name: realism_panel(sets[name], x_train, x_heldout, positions, seed=stream, size=size)
            for name in GENERATED_SETS
        },
    }
