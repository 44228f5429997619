"""The privacy budget as a setting: named levels and ``loss=X,auc=Y`` (``generation.privacy``).

What the limits bound and how a section is checked against them: :mod:`vae_genomics.evaluation.budget`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

#: Named budgets: (largest privacy-loss excess, largest distance-attack AUC excess).
LEVELS: dict[str, tuple[float, float]] = {
    "strict": (0.0, 0.01),
    "standard": (0.01, 0.02),
    "lenient": (0.05, 0.05),
}
DEFAULT_LEVEL = "standard"
#: Sections with fewer training haplotypes than this are checked at mean + spread.
SMALL_COHORT = 1000


@dataclass(frozen=True)
class PrivacyBudget:
    """Largest excess over the real reference of the privacy loss and the distance-attack AUC.

    Attributes:
        name: The level's name (``standard``, ...) or the text it was parsed from.
        max_loss_excess: Privacy loss minus the reference's, at most this.
        max_auc_excess: Distance-attack AUC minus the reference's, at most this.
    """

    name: str
    max_loss_excess: float
    max_auc_excess: float

    def describe(self) -> str:
        """One line: the level and its two limits."""
        return (
            f"privacy budget {self.name!r} (privacy loss at most the real reference's "
            f"+ {self.max_loss_excess:g}, distance-attack AUC at most the reference's "
            f"+ {self.max_auc_excess:g})"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "max_loss_excess": self.max_loss_excess,
            "max_auc_excess": self.max_auc_excess,
        }


def parse_budget(text: str) -> PrivacyBudget | None:
    """A budget from its name (``strict``, ``standard``, ``lenient``), ``loss=X,auc=Y``, or ``off``.

    Returns:
        The budget, or None for ``off``.

    Raises:
        ValueError: Naming the text and what is accepted.
    """
    text = str(text).strip()
    if text == "off":
        return None
    if text in LEVELS:
        return PrivacyBudget(text, *LEVELS[text])
    limits: dict[str, float] = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not sep or key.strip() not in ("loss", "auc") or not 0.0 <= number <= 1.0:
            raise ValueError(
                f"unknown privacy budget {text!r}: use off, {', '.join(LEVELS)}, or "
                "loss=X,auc=Y with both excesses in [0, 1] (e.g. loss=0.02,auc=0.03)"
            )
        limits[key.strip()] = number
    if set(limits) != {"loss", "auc"}:
        raise ValueError(f"privacy budget {text!r}: give both limits, loss=X,auc=Y")
    return PrivacyBudget(text, limits["loss"], limits["auc"])
