"""A section's privacy budget: the generator's operating point chosen on a calibration split.

The budget bounds how much closer generated haplotypes may sit to the training haplotypes than to
unseen ones, *beyond what releasing real unseen haplotypes would show* (the real reference). Two
numbers are bounded, each as an excess over its reference:

- the privacy loss (Yale et al. 2020; :func:`~vae_genomics.evaluation.privacy.privacy_loss`);
- the distance attack's AUC (:func:`~vae_genomics.evaluation.attacks.distance_attack`).

Calibration never looks at the held-out set. When ``generation.privacy`` is on, a share of the
*training* haplotypes (``generation.calibration_fraction``) is kept out of training as well
(``split.json``'s ``calibration`` list): for the trained model they are unseen, like held-out
haplotypes, and calibration uses them as its non-members. Each operating point (spread S of the
aggregate posterior, temperature T of the LD head) draws as many haplotypes as the calibration set
holds, ``draws`` times; the members are as many training haplotypes. The reference releases half
of the calibration set against its other half. A point meets a budget when its mean excess privacy
loss and mean excess AUC are within the level's bounds; of those, the one whose draws cover the
calibration haplotypes best (coverage in Hamming space, Naeem et al. 2020) is chosen. Every point's
numbers are stored, so ``sample --privacy LEVEL`` picks another level's point without a refit.

These are empirical numbers from a few hundred haplotypes, not a formal guarantee
(docs/privacy.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from vae_genomics.evaluation.attacks import distance_attack
from vae_genomics.evaluation.prdc import prdc
from vae_genomics.evaluation.privacy import privacy_loss
from vae_genomics.generate.generators import Generator, make_generator
from vae_genomics.models.vae import HaplotypeVAE


@dataclass(frozen=True)
class Budget:
    """A privacy level: the largest excess privacy loss and distance-attack AUC over the real
    reference that a section's generated haplotypes may show on the calibration split."""

    name: str
    max_excess_loss: float
    max_excess_auc: float


#: Named levels, strictest last; ``off`` (no calibration, today's default generator) is not one.
LEVELS: dict[str, Budget] = {
    "relaxed": Budget("relaxed", 0.03, 0.05),
    "standard": Budget("standard", 0.01, 0.02),
    "strict": Budget("strict", 0.005, 0.01),
}
#: Operating points tried: aggregate-posterior spreads S and LD-head temperatures T, the default
#: generator's (1.5, 0.7) first.
SPREADS = (1.5, 2.0, 2.5, 3.0, 4.0)
TEMPERATURES = (0.7, 1.0)
#: The LD head's context of every point (the default generator's).
CONTEXT = 16


def point_spec(spread: float, temperature: float) -> str:
    """The generator name of an operating point, e.g. ``aggregate:2/ld:16:1``."""
    return f"aggregate:{spread:g}/ld:{CONTEXT}:{temperature:g}"


def _numbers(
    released: np.ndarray, members: np.ndarray, nonmembers: np.ndarray, seed: int
) -> dict[str, float]:
    """Privacy loss and distance-attack AUC of one released set (all three of one size)."""
    loss = privacy_loss(released, members, nonmembers)["privacy_loss"]
    auc = distance_attack(released, members, nonmembers, seed=seed)["auc"]
    return {"privacy_loss": loss, "auc": auc}


def reference_numbers(
    x_train: np.ndarray, x_calibration: np.ndarray, draws: int, seed: int
) -> dict[str, float]:
    """The real reference: half of the calibration set released, the other half as non-members.

    Args:
        x_train: Training haplotypes, shape (n_train, L).
        x_calibration: Calibration haplotypes (unseen by the model), shape (m, L), m >= 4.
        draws: Random halvings averaged over.
        seed: Seed of the halvings and member draws.

    Returns:
        ``privacy_loss`` and ``auc`` (means over the draws) and their ``_sd``.
    """
    rng = np.random.default_rng([seed, 31])
    half = len(x_calibration) // 2
    runs = []
    for d in range(draws):
        order = rng.permutation(len(x_calibration))
        released, unseen = x_calibration[order[:half]], x_calibration[order[half : 2 * half]]
        members = x_train[rng.choice(len(x_train), half, replace=False)]
        runs.append(_numbers(released, members, unseen, seed + d))
    return _summarise(runs)


def _summarise(runs: list[dict[str, float]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for key in ("privacy_loss", "auc"):
        values = [r[key] for r in runs]
        out[key] = float(np.mean(values))
        out[f"{key}_sd"] = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
    return out


def point_numbers(
    generator: Generator,
    model: HaplotypeVAE,
    x_train: np.ndarray,
    x_calibration: np.ndarray,
    draws: int,
    seed: int,
) -> dict[str, float]:
    """One operating point's privacy numbers and coverage on the calibration split.

    Args:
        generator: A fitted generator at the point.
        model: The trained model.
        x_train: Training haplotypes, shape (n_train, L).
        x_calibration: Calibration haplotypes, shape (m, L).
        draws: Generated sets of m haplotypes.
        seed: Seed of the draws.

    Returns:
        ``privacy_loss``, ``auc`` (means over the draws), their ``_sd`` and ``coverage`` (Hamming
        space, k = 5, of the calibration haplotypes by the generated ones; mean over the draws).
    """
    rng = np.random.default_rng([seed, 37])
    m = len(x_calibration)
    runs, coverage = [], []
    for d in range(draws):
        released = generator.sample(model, m, seed=seed + 1000 * d)["samples"]
        members = x_train[rng.choice(len(x_train), m, replace=False)]
        runs.append(_numbers(released, members, x_calibration, seed + d))
        k = min(5, m - 1)
        coverage.append(prdc(x_calibration, released, k=k, metric="hamming")["coverage"])
    out = _summarise(runs)
    out["coverage"] = float(np.mean(coverage))
    return out


def calibrate(
    model: HaplotypeVAE,
    x_train: np.ndarray,
    x_calibration: np.ndarray,
    draws: int = 3,
    seed: int = 0,
    max_components: int = 8,
) -> dict[str, Any]:
    """Every operating point's numbers and the real reference (the stored calibration).

    Args:
        model: The trained model (``x_calibration`` was kept out of its training).
        x_train: Its training haplotypes, shape (n_train, L).
        x_calibration: The calibration haplotypes, shape (m, L), m >= 10.
        draws: Draws per point and of the reference.
        seed: Seed of every draw.
        max_components: Passed to :func:`~vae_genomics.generate.generators.make_generator`.

    Returns:
        ``reference`` (:func:`reference_numbers`), ``points`` (a list of ``spread``,
        ``temperature``, ``generator`` and the :func:`point_numbers`), ``n_calibration``,
        ``draws``, ``seed``.
    """
    if len(x_calibration) < 10:
        raise ValueError(f"calibration needs at least 10 haplotypes, got {len(x_calibration)}")
    base = make_generator(point_spec(SPREADS[0], TEMPERATURES[0]), max_components)
    base.fit(model, x_train, seed=seed)
    points = []
    for temperature in TEMPERATURES:
        for spread in SPREADS:
            base.source.inflate = spread  # the same fitted source and head, another point
            base.decoder = f"ld:{CONTEXT}:{temperature:g}"
            numbers = point_numbers(base, model, x_train, x_calibration, draws, seed)
            points.append(
                {"spread": spread, "temperature": temperature,
                 "generator": point_spec(spread, temperature), **numbers}
            )  # fmt: skip
    return {
        "reference": reference_numbers(x_train, x_calibration, draws, seed),
        "points": points,
        "n_calibration": len(x_calibration),
        "draws": draws,
        "seed": seed,
    }


def choose(calibration: dict[str, Any], level: str) -> dict[str, Any]:
    """The point of a level: within its budget, the best coverage; or why none is.

    Args:
        calibration: What :func:`calibrate` returned (as stored in the run).
        level: A name of :data:`LEVELS`.

    Returns:
        ``level``, ``budget`` (the two bounds), ``met`` (bool), ``point`` (the chosen point, or
        the one nearest to the budget when none meets it) and ``excess`` (its excess loss and AUC
        over the reference).
    """
    budget = LEVELS[level]
    ref = calibration["reference"]

    def excess(point: dict[str, Any]) -> tuple[float, float]:
        return point["privacy_loss"] - ref["privacy_loss"], point["auc"] - ref["auc"]

    def within(point: dict[str, Any]) -> bool:
        loss, auc = excess(point)
        return loss <= budget.max_excess_loss and auc <= budget.max_excess_auc

    meeting = [p for p in calibration["points"] if within(p)]
    if meeting:
        point = max(meeting, key=lambda p: p["coverage"])
    else:  # nearest: the smallest overshoot, each bound in units of itself
        point = min(
            calibration["points"],
            key=lambda p: max(excess(p)[0] / budget.max_excess_loss,
                              excess(p)[1] / budget.max_excess_auc),
        )  # fmt: skip
    loss, auc = excess(point)
    return {
        "level": level,
        "budget": {"max_excess_loss": budget.max_excess_loss,
                   "max_excess_auc": budget.max_excess_auc},
        "met": bool(meeting),
        "point": point,
        "excess": {"privacy_loss": loss, "auc": auc},
    }  # fmt: skip
