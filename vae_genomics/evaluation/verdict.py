"""The verdict of a set of decoded or generated haplotypes: what is wrong, and the number.

The verdict (:func:`judge`, thresholds in :class:`VerdictThresholds`) of a set's statistics
(:func:`vae_genomics.evaluation.modeseek.compare_sets`) names what is wrong, with the number
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

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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
