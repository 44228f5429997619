"""A privacy budget: how far a generated set's privacy numbers may exceed the real reference's.

Every privacy number of the realism panel (:mod:`~vae_genomics.evaluation.realism`) stands beside
a real reference, held-out haplotypes released instead of synthetic ones (the panel's ceiling).
A budget bounds the *excess* over that reference of two of them:

- the privacy loss (Yale et al. 2020; :mod:`~vae_genomics.evaluation.privacy`), and
- the distance membership attack's AUC (:mod:`~vae_genomics.evaluation.attacks`).

Named levels (excess of privacy loss, excess of AUC): ``strict`` (0.00, 0.01), ``standard``
(0.01, 0.02; the default, the limits of docs/privacy.md) and ``lenient`` (0.05, 0.05); any other
pair is written ``loss=0.02,auc=0.03``; ``off`` checks nothing. Both numbers are means over
subset draws with a spread (their SD). When the section has fewer than :data:`SMALL_COHORT`
training haplotypes, that spread is as large as the budget, and the check is stricter: each
excess is taken at its mean plus the spread of the difference, sqrt(sd_set^2 + sd_reference^2),
so a set that meets the budget only by the luck of the draws does not pass.

The budget is a check of measured numbers, not a guarantee (docs/privacy.md): it says whether a
generator's set, scored on the run's held-out haplotypes, leaked more than real unseen haplotypes
would at these sizes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from vae_genomics.config.budget import SMALL_COHORT, PrivacyBudget

__all__ = [
    "PrivacyBudget",
    "check_budget",
    "check_release",
    "describe_check",
    "describe_numbers",
    "describe_release",
]


def _number(panel: Mapping[str, Any], key: str) -> float | None:
    value = panel.get(key)
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def check_budget(
    generated: Mapping[str, Any],
    reference: Mapping[str, Any],
    budget: PrivacyBudget,
    n_train: int,
) -> dict[str, Any]:
    """Whether one generated set's privacy numbers meet ``budget`` beside the real reference.

    Args:
        generated: The set's realism panel: ``privacy_loss``, ``privacy_loss_sd``,
            ``distance_attack_auc``, ``distance_attack_auc_sd``.
        reference: The same numbers for the real reference (the panel's ceiling).
        budget: The limits.
        n_train: Training haplotypes of the section (below :data:`SMALL_COHORT`, the stricter
            check of the module docstring).

    Returns:
        ``meets`` (True, False, or None when a number was not measured), ``strict`` (the small-
        cohort check was used), and per number (``loss``, ``auc``): ``value``, ``reference``,
        ``excess`` (value - reference), ``margin`` (the spread added, 0 unless strict),
        ``limit``; ``missing`` lists numbers the panels lack.
    """
    strict = n_train < SMALL_COHORT
    out: dict[str, Any] = {"strict": strict, "n_train": int(n_train), "missing": []}
    verdicts = []
    for name, key, limit in (
        ("loss", "privacy_loss", budget.max_loss_excess),
        ("auc", "distance_attack_auc", budget.max_auc_excess),
    ):
        value, ref = _number(generated, key), _number(reference, key)
        if value is None or ref is None:
            out["missing"].append(key)
            verdicts.append(None)
            continue
        sd = math.hypot(
            _number(generated, f"{key}_sd") or 0.0, _number(reference, f"{key}_sd") or 0.0
        )
        margin = sd if strict else 0.0
        excess = value - ref
        out[name] = {"value": value, "reference": ref, "excess": excess, "margin": margin,
                     "limit": limit}  # fmt: skip
        verdicts.append(excess + margin <= limit)
    out["meets"] = None if None in verdicts else all(verdicts)
    return out


def describe_numbers(check: Mapping[str, Any]) -> str:
    """A check's numbers in words: each number, its reference, excess and limit."""
    if check.get("meets") is None:
        return f"not measured ({', '.join(check['missing']) or 'no numbers'})"
    parts = []
    for name, label in (("loss", "privacy loss"), ("auc", "distance-attack AUC")):
        c = check[name]
        plus = f" + spread {c['margin']:.3f}" if c["margin"] else ""
        mark = "ok" if c["excess"] + c["margin"] <= c["limit"] else "over"
        parts.append(
            f"{label} {c['value']:.3f} vs reference {c['reference']:.3f} "
            f"(excess {c['excess']:+.3f}{plus}, limit +{c['limit']:g}: {mark})"
        )
    return "; ".join(parts)


def describe_check(section: str, check: Mapping[str, Any]) -> str:
    """One line per section for messages: ``<section>: `` and :func:`describe_numbers`."""
    return f"{section}: {describe_numbers(check)}"


def check_release(attack: Mapping[str, Any], budget: PrivacyBudget, n_train: int) -> dict[str, Any]:
    """Whether the distance attack on a release meets the budget's AUC limit.

    The reference of the attack on a release is 0.5 (:mod:`~vae_genomics.evaluation.
    release_attack`); below :data:`SMALL_COHORT` training haplotypes the excess is taken at mean
    plus the attack's spread under that null, as :func:`check_budget` does.

    Args:
        attack: :func:`~vae_genomics.evaluation.release_attack.release_attack`'s record.
        budget: The limits (its AUC excess).
        n_train: Training haplotypes of the section.

    Returns:
        ``meets``, ``strict``, ``auc``, ``excess`` (AUC - 0.5), ``margin``, ``limit``,
        ``n_released``, ``largest_within`` (the largest prefix size of ``by_size`` within the
        limit, None if none) and ``by_size``.
    """
    strict = n_train < SMALL_COHORT
    margin = float(attack["null_sd"]) if strict else 0.0
    limit = budget.max_auc_excess
    within = [row["n"] for row in attack["by_size"] if row["auc"] - 0.5 + margin <= limit]
    excess = float(attack["auc"]) - 0.5
    return {
        "meets": excess + margin <= limit,
        "strict": strict,
        "auc": float(attack["auc"]),
        "tpr_at_1pct_fpr": attack.get("tpr_at_1pct_fpr"),
        "excess": excess,
        "margin": margin,
        "limit": limit,
        "n_released": int(attack["n_released"]),
        "largest_within": max(within) if within else None,
        "by_size": list(attack["by_size"]),
    }


def describe_release(check: Mapping[str, Any]) -> str:
    """A release check in words: the AUC, its excess over 0.5 and the limit, and by size."""
    plus = f" + spread {check['margin']:.3f}" if check["margin"] else ""
    mark = "ok" if check["meets"] else "over"
    sizes = ", ".join(f"{row['n']}: {row['auc']:.3f}" for row in check["by_size"])
    return (
        f"distance attack on the {check['n_released']} haplotypes released: AUC "
        f"{check['auc']:.3f} (excess over 0.5 {check['excess']:+.3f}{plus}, limit "
        f"+{check['limit']:g}: {mark}); AUC by release size: {sizes}"
    )
