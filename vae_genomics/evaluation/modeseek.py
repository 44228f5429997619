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

The verdict (``judge``, thresholds in :class:`VerdictThresholds`) names what is wrong, with the number
that tripped it, each threshold relative to the real-vs-real ceiling:

- ``collapsed``: almost no variance along any PC or in total (a near-single point);
- ``off-distribution``: precision (PCA space, or Hamming space for 0/1 sets) below a fraction of
  the ceiling's: many of the set's haplotypes lie where no real one does (over-dispersed sets,
  variance ratios >= 1, e.g. prior samples decoded from the holes of the aggregate posterior, or
  per-site noise);
- ``mode-seeking``: precision kept, but a variance ratio or a coverage below a fraction of the
  ceiling's: the set is concentrated on the densest modes and misses the rest;
- ``copies-training-data``: a privacy number of the realism panel (when given, generated sets only)
  above its limit: the privacy loss (AATS against held-out minus AATS against training, Yale et al.
  2020), or the fraction of exact training copies beyond the held-out haplotypes' own;
- ``ok`` otherwise.

The first that applies, in that order, is the verdict; ``tripped`` lists every failed check.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from vae_genomics.evaluation.pca import HaplotypePCA
from vae_genomics.evaluation.popgen import LD_MAX_OFFSET, allele_frequency_agreement, ld_agreement
from vae_genomics.evaluation.prdc import CHUNK_SIZE, prdc

log = logging.getLogger(__name__)

#: Verdicts of a set, least to most severe (the runs index sorts by this order).
VERDICTS = ("ok", "copies-training-data", "off-distribution", "mode-seeking", "collapsed")

#: Verdicts that make a sweep point ineligible: the model, not the privacy guard, is at fault.
FAILING = ("off-distribution", "mode-seeking", "collapsed")


@dataclass(frozen=True)
class VerdictThresholds:
    """Thresholds of the per-set verdict (defaults and why).

    Attributes:
        collapse_variance_ratio: ``collapsed`` when every checked PC's ``variance_ratio`` (their
            maximum, ``max_variance_ratio``) or the ``site_variance_ratio`` (total variance over
            all variants) is below this. 0.05 means a spread under ~22% of the real standard
            deviation in every direction: no longer a distribution but a point (e.g. every
            reconstruction decodes to the mean haplotype). The maximum, not the sum, over PCs is
            used so that a set sitting on one population's mode (no spread along the PCs that
            separate populations, normal spread within it) is mode-seeking, not collapsed.
        min_variance_fraction: ``mode-seeking`` when a per-PC ``variance_ratio`` is below this
            fraction of the ceiling's ratio on the same PC, capped at 1 (the training haplotypes'
            variance along their own PCs is inflated by the fit). 0.5 (standard deviation shrunk to
            ~71%) is about 3.5 sampling standard deviations of a variance ratio from 200 points
            (sd ~ 2/sqrt(n)), yet lets through the mild shrinkage decoder probabilities always show.
        min_coverage_fraction: ``mode-seeking`` when ``coverage`` (PCA or Hamming space) is below
            this fraction of the ceiling's. Real-vs-real coverage is about 1 - 2^-k (0.97 for k = 5,
            Naeem et al. 2020); 0.7 of it (~0.68) means about a third of the real haplotypes have no
            generated neighbour within their k-NN radius, i.e. whole regions of the cohort are missed.
        min_precision_fraction: ``off-distribution`` when ``precision`` in PCA space, or in Hamming
            space for 0/1 sets, is below this fraction of the ceiling's. 0.7 of a real-vs-real
            precision of ~0.97 means about a third of the set lies outside every held-out
            haplotype's k-NN ball.
        max_privacy_loss: ``copies-training-data`` when the privacy loss is above this. Real
            held-out haplotypes score about 0 and verbatim training copies about AATS(held-out)
            (~0.45); the difference of two AATS of 120 points each (the example's held-out set)
            has a standard error of ~0.04, so 0.1 is clearly closer to training than to unseen data.
        max_copy_excess: ``copies-training-data`` when the fraction of exact training copies
            exceeds the held-out haplotypes' own fraction (high in dense sections) by more than this.
        n_pcs: Principal components checked, PC1..PCn (the report draws PC1-2 and PC3-4).
    """

    collapse_variance_ratio: float = 0.05
    min_variance_fraction: float = 0.5
    min_coverage_fraction: float = 0.7
    min_precision_fraction: float = 0.7
    max_privacy_loss: float = 0.1
    max_copy_excess: float = 0.1
    n_pcs: int = 4

    def __post_init__(self) -> None:
        for name in (
            "collapse_variance_ratio",
            "min_variance_fraction",
            "min_coverage_fraction",
            "min_precision_fraction",
            "max_privacy_loss",
            "max_copy_excess",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"VerdictThresholds.{name} must be in [0, 1], got {value}")
        if self.n_pcs < 1:
            raise ValueError(f"VerdictThresholds.n_pcs must be >= 1, got {self.n_pcs}")


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


def _scaled(fraction: float, ceiling_value: float | None, cap: float | None = None) -> float | None:
    if ceiling_value is None:
        return None
    return fraction * (ceiling_value if cap is None else min(ceiling_value, cap))


def _checks(
    stats: Mapping[str, Any], ceiling: Mapping[str, Any], t: VerdictThresholds
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(collapse checks, mode-seeking checks) as ``{name, value, threshold}`` rows."""
    ratios = stats["variance_ratio"][: t.n_pcs]
    known = [r for r in ratios if r is not None]
    collapse = [
        {
            "name": "max_variance_ratio",
            "value": max(known) if known else None,
            "threshold": t.collapse_variance_ratio,
        },
        {
            "name": "site_variance_ratio",
            "value": stats["site_variance_ratio"],
            "threshold": t.collapse_variance_ratio,
        },
    ]
    # The training haplotypes' variance along their own PCs is inflated (the PCs were fitted to
    # them), so a ceiling ratio above 1 is not something a generator can reach: cap it at 1.
    mode = [
        {
            "name": f"variance_ratio_pc{i + 1}",
            "value": value,
            "threshold": _scaled(t.min_variance_fraction, ceiling["variance_ratio"][i], cap=1.0),
        }
        for i, value in enumerate(ratios)
    ]
    mode += [
        {
            "name": f"coverage_{space}",
            "value": stats[f"prdc_{space}"]["coverage"],
            "threshold": _scaled(t.min_coverage_fraction, ceiling[f"prdc_{space}"]["coverage"]),
        }
        for space in ("pca", "hamming")
    ]
    return collapse, mode


def _precision_checks(
    stats: Mapping[str, Any], ceiling: Mapping[str, Any], t: VerdictThresholds, hamming: bool
) -> list[dict[str, Any]]:
    spaces = ("pca", "hamming") if hamming else ("pca",)
    return [
        {
            "name": f"precision_{space}",
            "value": (stats.get(f"prdc_{space}") or {}).get("precision"),
            "threshold": _scaled(
                t.min_precision_fraction, (ceiling.get(f"prdc_{space}") or {}).get("precision")
            ),
        }
        for space in spaces
    ]


def _privacy_checks(
    privacy: Mapping[str, Any] | None, t: VerdictThresholds
) -> list[dict[str, Any]]:
    """Upper-bound checks (``value > threshold`` trips) on a realism panel's privacy numbers."""
    if not privacy:
        return []
    heldout_copies = privacy.get("heldout_exact_copy_fraction")
    return [
        {
            "name": "privacy_loss",
            "value": privacy.get("privacy_loss"),
            "threshold": t.max_privacy_loss,
        },
        {
            "name": "exact_copy_fraction",
            "value": privacy.get("exact_copy_fraction"),
            "threshold": None if heldout_copies is None else heldout_copies + t.max_copy_excess,
        },
    ]


def _trips(check: dict[str, Any], upper: bool = False) -> bool:
    value, threshold = check["value"], check["threshold"]
    if value is None or threshold is None:
        return False
    return bool(value > threshold if upper else value < threshold)


def _severity(check: dict[str, Any]) -> float:
    """How far past its threshold a tripped check is (larger is worse), for choosing the deciding one."""
    value, threshold = check["value"], check["threshold"]
    if check.get("upper"):
        return value - threshold
    return 1.0 - value / threshold if threshold else 0.0


def judge(
    stats: Mapping[str, Any],
    ceiling: Mapping[str, Any],
    thresholds: VerdictThresholds | None = None,
    privacy: Mapping[str, Any] | None = None,
    binary: bool = True,
) -> dict[str, Any]:
    """Verdict of one set from its numbers and the real-vs-real ceiling (both from :func:`compare_sets`).

    Args:
        stats: The set's numbers.
        ceiling: Real training vs held-out numbers.
        thresholds: Verdict thresholds (defaults when None).
        privacy: The set's realism panel (:func:`~vae_genomics.evaluation.realism.realism_panel`:
            ``privacy_loss``, ``exact_copy_fraction``, ``heldout_exact_copy_fraction``), or None
            (no privacy checks: reconstructions).
        binary: The set is 0/1 haplotypes. Decoder probabilities sit at the expected distance of
            a draw from every real haplotype, so their Hamming precision is near 0 by construction
            and is not checked.

    Returns:
        ``verdict`` (one of :data:`VERDICTS`, module docstring); ``tripped_by``, ``value`` and
        ``threshold`` of the deciding number (among the checks of the verdict, the one furthest past
        its threshold; None when ok); ``tripped``, every check that failed; ``checks``, all of them
        (each with ``tripped``). A lower-bound check trips when ``value < threshold``, an upper-bound
        one (``upper``: the privacy checks) when ``value > threshold``; a missing value never trips.
    """
    t = thresholds or VerdictThresholds()
    collapse, mode = _checks(stats, ceiling, t)
    precision = _precision_checks(stats, ceiling, t, hamming=binary)
    copies = _privacy_checks(privacy, t)
    for check in copies:
        check["upper"] = True
    groups = (
        ("collapsed", collapse),
        ("off-distribution", precision),
        ("mode-seeking", mode),
        ("copies-training-data", copies),
    )
    for _, group in groups:
        for check in group:
            check["tripped"] = _trips(check, upper=check.get("upper", False))
    verdict, deciding = "ok", []
    for name, group in groups:
        deciding = [c for c in group if c["tripped"]]
        if deciding:
            verdict = name
            break
    worst = max(deciding, key=_severity) if deciding else None
    checks = [c for _, group in groups for c in group]
    return {
        "verdict": verdict,
        "tripped_by": worst["name"] if worst else None,
        "value": worst["value"] if worst else None,
        "threshold": worst["threshold"] if worst else None,
        "tripped": [c["name"] for c in checks if c["tripped"]],
        "checks": checks,
    }


def headline(
    verdicts: Mapping[str, str],
    sets: tuple[str, ...] = ("reconstruction_samples", "generated_samples"),
) -> dict[str, Any]:
    """The section's headline: the worst verdict over ``sets`` (those present), as the sweep judges.

    Returns:
        ``{"set", "verdict"}`` of the worst of them (the first on ties); ``{"set": None,
        "verdict": None}`` when none of them was evaluated.
    """
    present = [name for name in sets if name in verdicts]
    if not present:
        return {"set": None, "verdict": None}
    worst = max(present, key=lambda name: VERDICTS.index(verdicts[name]))
    return {"set": worst, "verdict": verdicts[worst]}


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
            refit = HaplotypePCA(pca.n_components, pca.random_state).fit(x_train[rest])
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
        if len(x) <= k:
            raise ValueError(f"set {name!r} has {len(x)} haplotypes; PRDC with k={k} needs more")
        if len(x) < n_ref:
            log.warning(
                "set %r has %d haplotypes, fewer than the %d held-out ones: its PRDC is not "
                "comparable with the ceiling",
                name,
                len(x),
                n_ref,
            )
        stats = numbers(_subsample(x, n_ref, rng))
        binary = bool(np.isin(np.asarray(x), (0, 1)).all())
        stats["verdict"] = judge(stats, ceiling, t, (privacy or {}).get(name), binary)
        log.info(
            "%s: %s%s",
            name,
            stats["verdict"]["verdict"],
            f" ({stats['verdict']['tripped_by']} = {stats['verdict']['value']:.3g})"
            if stats["verdict"]["tripped_by"]
            else "",
        )
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


def to_jsonable(value: Any) -> Any:
    """Plain Python types for ``json.dumps``: numpy scalars/arrays converted, NaN and inf to None."""
    if isinstance(value, Mapping):
        return {str(key): to_jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [to_jsonable(item) for item in value]
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer | int):
        return int(value)
    if isinstance(value, np.floating | float):
        return float(value) if math.isfinite(value) else None
    return value
