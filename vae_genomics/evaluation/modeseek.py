"""Mode-seeking statistics of decoded or generated haplotypes, and a verdict per set.

Each "after" set (reconstruction probabilities, Bernoulli-sampled or thresholded reconstructions, prior
samples, mixture samples) is compared with held-out real haplotypes, and so are the real training
haplotypes: the ceiling, what a perfect generator of the cohort's distribution would score with the
same number of points. Numbers per set (``compare_sets``):

- ``variance_ratio``: Var(set along PC_k) / Var(held-out along PC_k) for PC1..PCn, in the
  Patterson-scaled PCA fitted on real training haplotypes only; ``total_variance_ratio`` sums the
  variances over those PCs first; ``site_variance_ratio`` is the same over all variants
  (trace of the covariance in haplotype space). A mode-seeking set shrinks towards the densest modes:
  its ratios fall below 1.
- ``prdc_pca`` / ``prdc_hamming``: precision, recall, density, coverage (Naeem et al. 2020) with the
  held-out set as real, in PCA space (Euclidean) and in Hamming space (L1 over variants); see
  :mod:`vae_genomics.evaluation.prdc`. Mode-seeking keeps precision and density high but loses
  recall and coverage. In Hamming space a consensus haplotype is nearer to every member of its
  population than they are to each other (a hub in high dimension), so a set collapsed onto a few
  consensus haplotypes keeps a high Hamming coverage (its Hamming density, far above 1, shows the
  pile-up); its PCA-space coverage and variance ratios do fall, which is why the verdict trips on
  any one check. Decoder probabilities sit at the expected Hamming distance of a draw from every real
  haplotype, beyond their k-NN radii, so their Hamming coverage is near 0 by construction.
- ``allele_frequency`` and ``ld``: agreement of per-site ALT frequencies and of r² over nearby pairs
  (:mod:`vae_genomics.evaluation.popgen`). Shown beside the verdict, not used by it: marginal
  frequencies can match while the joint structure has collapsed onto a few modes.

The verdict of each set is :func:`vae_genomics.evaluation.verdict.judge`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

import numpy as np

from vae_genomics.common.io import to_jsonable
from vae_genomics.evaluation.pca import HaplotypePCA
from vae_genomics.evaluation.popgen import LD_MAX_OFFSET, allele_frequency_agreement, ld_agreement
from vae_genomics.evaluation.prdc import CHUNK_SIZE, prdc
from vae_genomics.evaluation.verdict import VerdictThresholds, judge

log = logging.getLogger(__name__)


def variance_ratios(candidate_coords: np.ndarray, reference_coords: np.ndarray) -> np.ndarray:
    """Per-component variance of ``candidate_coords`` over that of ``reference_coords``.

    Args:
        candidate_coords: Projections of the set, shape (m, n_components).
        reference_coords: Projections of the held-out real haplotypes, shape (n, n_components).

    Returns:
        Ratios, shape (n_components,): 1 for matching spread, 0 for a single point.
    """
    return np.var(candidate_coords, axis=0) / np.var(reference_coords, axis=0)


def compare_sets(
    reference: np.ndarray,
    candidate: np.ndarray,
    pca: HaplotypePCA,
    k: int = 5,
    ld_max_offset: int = LD_MAX_OFFSET,
    n_pcs: int = 4,
    chunk_size: int = CHUNK_SIZE,
) -> dict[str, Any]:
    """The mode-seeking numbers of ``candidate`` against held-out ``reference`` (module docstring).

    Args:
        reference: Held-out real haplotypes, shape (n, n_variants), 0/1.
        candidate: The set, shape (m, n_variants), 0/1 or probabilities.
        pca: PCA fitted on real training haplotypes.
        k: Nearest-neighbour rank of PRDC.
        ld_max_offset: LD band width in variants.
        n_pcs: Components used for the variance ratios and PCA-space PRDC (at most the PCA's).
        chunk_size: Rows per chunk of the distance matrices.

    Returns:
        JSON-ready dict: ``n``, ``variance_ratio`` (list, PC1..), ``total_variance_ratio``,
        ``site_variance_ratio``, ``prdc_pca`` and ``prdc_hamming`` (precision, recall, density,
        coverage), ``allele_frequency`` (pearson_r, rmse, max_abs_diff) and ``ld`` (pearson_r, rmse,
        mean_r2_reference, mean_r2_candidate, n_pairs). NaN becomes None.
    """
    reference = np.asarray(reference, dtype=np.float64)
    candidate = np.asarray(candidate, dtype=np.float64)
    ref_coords = pca.transform(reference)[:, :n_pcs]
    cand_coords = pca.transform(candidate)[:, :n_pcs]
    ref_var = np.var(ref_coords, axis=0)
    cand_var = np.var(cand_coords, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):  # a constant reference gives NaN → None
        ratios = variance_ratios(cand_coords, ref_coords)
        total = cand_var.sum() / ref_var.sum()
        site = candidate.var(axis=0).sum() / reference.var(axis=0).sum()
    stats = {
        "n": len(candidate),
        "variance_ratio": ratios.tolist(),
        "total_variance_ratio": float(total),
        "site_variance_ratio": float(site),
        "prdc_pca": prdc(ref_coords, cand_coords, k, "euclidean", chunk_size),
        "prdc_hamming": prdc(reference, candidate, k, "hamming", chunk_size),
        "allele_frequency": allele_frequency_agreement(reference, candidate),
        "ld": ld_agreement(reference, candidate, ld_max_offset),
    }
    return to_jsonable(stats)


def _subsample(x: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    if len(x) <= n:
        return np.asarray(x)
    return np.asarray(x)[np.sort(rng.choice(len(x), size=n, replace=False))]


def _ceiling_split(
    x_train: np.ndarray, n: int, pca: HaplotypePCA, rng: np.random.Generator
) -> tuple[np.ndarray, HaplotypePCA, str]:
    """The ceiling's training sample (at most ``n`` rows) and the PCA to compare it in.

    The training haplotypes spread more along the PCs fitted to them than unseen haplotypes do
    (most on the weak PCs), which would make the ceiling's PCA-space numbers unreachable for any
    generator. So the PCA is refitted, with the same settings, on the training haplotypes left out of
    the ceiling sample; with too few left (or too few polymorphic sites in them), the given PCA is
    used and the ceiling is marked ``in-sample``.
    """
    x_train = np.asarray(x_train)
    order = rng.permutation(len(x_train))
    chosen, rest = np.sort(order[:n]), np.sort(order[n:])
    sample = x_train[chosen]
    if len(rest) >= max(2 * pca.n_components, 20):
        try:
            refit = HaplotypePCA(pca.n_components, pca.random_state, pca.max_sites).fit(
                x_train[rest]
            )
            return sample, refit, "out-of-sample"
        except ValueError as err:
            log.warning("ceiling PCA refit failed (%s); using the training PCA", err)
    log.warning(
        "only %d training haplotypes outside the ceiling sample: the ceiling's PCA-space numbers "
        "are in-sample (optimistic variance ratios, pessimistic coverage)",
        len(rest),
    )
    return sample, pca, "in-sample"


def mode_seeking_report(
    x_train: np.ndarray,
    x_heldout: np.ndarray,
    sets: Mapping[str, np.ndarray],
    pca: HaplotypePCA | None = None,
    thresholds: VerdictThresholds | None = None,
    k: int = 5,
    ld_max_offset: int = LD_MAX_OFFSET,
    max_points: int = 5000,
    seed: int | np.random.Generator | None = 0,
    chunk_size: int = CHUNK_SIZE,
    privacy: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """Numbers and verdicts of every "after" set, beside the real-train vs real-held-out ceiling.

    Set sizes matter for PRDC (coverage rises with the number of generated points), so every set,
    and the training haplotypes for the ceiling, is subsampled without replacement to at most the
    size of the held-out set (itself capped at ``max_points``). Generate sets at least that large
    for numbers comparable with the ceiling; a smaller set is kept whole and logged.

    The ceiling's PCA-space numbers are computed in a PCA refitted on the training haplotypes *not*
    in the ceiling sample (``settings.ceiling_pca = "out-of-sample"``): like a generated set, the
    ceiling sample is then unseen by the PCA it is measured in. Everything else uses ``pca``.

    Args:
        x_train: Real training haplotypes, shape (n_train, n_variants), 0/1.
        x_heldout: Real held-out haplotypes, shape (n_heldout, n_variants), 0/1.
        sets: Name → haplotypes or probabilities, shape (m, n_variants).
        pca: PCA fitted on ``x_train`` (fitted here, with ``thresholds.n_pcs`` components, if None).
        thresholds: Verdict thresholds (defaults when None).
        k: Nearest-neighbour rank of PRDC.
        ld_max_offset: LD band width in variants.
        max_points: Cap on the held-out points compared (Hamming PRDC costs O(n² · n_variants)).
        seed: Seed or generator of the subsampling.
        chunk_size: Rows per chunk of the distance matrices.
        privacy: Set name → its realism panel, for the privacy checks of :func:`judge` (sets
            without one get none).

    Returns:
        JSON-ready dict: ``ceiling`` (numbers of real train vs held-out), ``sets`` (name → numbers
        plus ``verdict``, see :func:`judge`), ``thresholds`` and ``settings`` (k, ld_max_offset,
        n_reference, n_pcs, ceiling_pca).
    """
    t = thresholds or VerdictThresholds()
    rng = np.random.default_rng(seed)
    if pca is None:
        pca = HaplotypePCA(n_components=t.n_pcs).fit(x_train)
    n_pcs = min(t.n_pcs, pca.pca_.n_components_)
    reference = _subsample(x_heldout, max_points, rng)
    n_ref = len(reference)

    def numbers(x: np.ndarray, basis: HaplotypePCA = pca) -> dict[str, Any]:
        return compare_sets(reference, x, basis, k, ld_max_offset, n_pcs, chunk_size)

    ceiling_sample, ceiling_pca, ceiling_kind = _ceiling_split(x_train, n_ref, pca, rng)
    ceiling = numbers(ceiling_sample, ceiling_pca)
    results: dict[str, Any] = {}
    for name, x in sets.items():
        _check_set_size(name, len(x), k, n_ref)
        stats = numbers(_subsample(x, n_ref, rng))
        binary = bool(np.isin(np.asarray(x), (0, 1)).all())
        stats["verdict"] = judge(stats, ceiling, t, (privacy or {}).get(name), binary)
        _log_verdict(name, stats["verdict"])
        results[name] = stats
    return to_jsonable(
        {
            "ceiling": ceiling,
            "sets": results,
            "thresholds": asdict(t),
            "settings": {
                "k": k,
                "ld_max_offset": ld_max_offset,
                "n_reference": n_ref,
                "n_pcs": n_pcs,
                "ceiling_pca": ceiling_kind,
            },
        }
    )


def _check_set_size(name: str, n: int, k: int, n_ref: int) -> None:
    """Refuse a set too small for PRDC; warn when it is smaller than the held-out set compared.

    Args:
        name: The set's name.
        n: Its haplotypes.
        k: Nearest-neighbour rank of PRDC.
        n_ref: Held-out haplotypes compared.

    Raises:
        ValueError: ``n <= k``.
    """
    if n <= k:
        raise ValueError(f"set {name!r} has {n} haplotypes; PRDC with k={k} needs more")
    if n < n_ref:
        log.warning(
            "set %r has %d haplotypes, fewer than the %d held-out ones: its PRDC is not "
            "comparable with the ceiling",
            name,
            n,
            n_ref,
        )


def _log_verdict(name: str, verdict: Mapping[str, Any]) -> None:
    """Log a set's verdict and, when a check tripped it, the number.

    Args:
        name: The set's name.
        verdict: ``verdict``, ``tripped_by`` and ``value``.
    """
    log.info(
        "%s: %s%s",
        name,
        verdict["verdict"],
        f" ({verdict['tripped_by']} = {verdict['value']:.3g})" if verdict["tripped_by"] else "",
    )
