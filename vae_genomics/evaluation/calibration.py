"""A section's generator calibrated to its privacy budget on haplotypes kept out of training.

Before training, a *calibration split* is carved out of the section's training haplotypes
(:mod:`vae_genomics.train.calibration_split`; never the held-out set, whose numbers then judge
the choice without bias). After training, every operating point of a ladder of generators
(:data:`LADDER`, from the most realistic to the most private, by measurement:
experiments/notebook/privacy-budget.md) draws as many haplotypes as the split holds, scored on
the split as the report scores a set on the held-out haplotypes
(:func:`~vae_genomics.evaluation.realism.realism_panel`: privacy loss and distance-attack AUC
beside a real reference, :func:`realism_ceiling` with the split in the held-out role), with its
coverage in Hamming space ÷ the reference's. The most realistic point (highest coverage fraction)
whose excesses meet the budget *at mean + spread* is chosen: the split is a tenth of the cohort,
and a point must not pass by the luck of its draws.

The choice and every point's numbers are stored in the run (``metrics.json``,
``evaluation.calibration``), the report evaluates the chosen generator on the held-out set and
draws the curve, and ``sample`` draws it. When no point meets the budget, the default generator
is kept and the report and ``sample`` say so; the held-out check at sampling time is the same
either way (:mod:`vae_genomics.commands.privacy_gate`).

What calibration does not do: it does not make a leaking model private. On sections where even
codes from the prior leak (the decoder memorises its training haplotypes), no point meets a tight
budget and ``sample`` refuses, as before.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from vae_genomics.config.budget import PrivacyBudget
from vae_genomics.evaluation.budget import check_budget
from vae_genomics.evaluation.prdc import prdc
from vae_genomics.evaluation.realism import common_size, realism_ceiling, realism_panel
from vae_genomics.generate.generators import DEFAULT_GENERATOR, make_generator

log = logging.getLogger(__name__)

__all__ = [
    "LADDER",
    "Calibration",
    "calibrate",
    "calibrated_generator",
    "choose_point",
]

#: Operating points tried, from the most realistic to the most private (measured on a simulated
#: chromosome section and 1000 Genomes sections: experiments/notebook/privacy-budget.md). Every
#: point shares the default generator's LD head (its temperature is a sampling setting).
LADDER: tuple[str, ...] = (
    DEFAULT_GENERATOR,
    "aggregate:1.5/ld:16:1",
    "gmm/ld:16:1",
    "prior/ld:16:1",
)


@dataclass
class Calibration:
    """The outcome of :func:`calibrate`.

    Attributes:
        budget: The limits calibrated to (``to_dict``).
        points: One record per ladder point (:func:`score_point`), in ladder order.
        chosen: The chosen generator's name, or None when no point meets the budget.
        n_calibration: Calibration haplotypes.
    """

    budget: dict[str, Any]
    points: list[dict[str, Any]]
    chosen: str | None
    n_calibration: int

    @property
    def generator(self) -> str:
        """What the section releases: the chosen point, or the default when none meets."""
        return self.chosen or DEFAULT_GENERATOR

    def to_dict(self) -> dict[str, Any]:
        return {
            "budget": self.budget,
            "n_calibration": self.n_calibration,
            "chosen": self.chosen,
            "generator": self.generator,
            "points": self.points,
            "checked": "each point's numbers on the calibration split at mean + spread "
            "(haplotypes kept out of training, never the held-out set)",
        }


def choose_point(points: Sequence[Mapping[str, Any]]) -> str | None:
    """The most realistic point that meets its budget: the highest ``coverage_fraction`` among
    points whose ``check["meets"]`` is True (ties: the earlier in the ladder); None if none does."""
    best, best_cov = None, -np.inf
    for point in points:
        cov = point.get("coverage_fraction")
        cov = -np.inf if cov is None or not np.isfinite(cov) else cov
        if point["check"]["meets"] is True and cov > best_cov:
            best, best_cov = point["generator"], cov
    return best


def score_point(
    samples: np.ndarray,
    x_train: np.ndarray,
    x_calibration: np.ndarray,
    ceiling: Mapping[str, Any],
    ceiling_coverage: float,
    budget: PrivacyBudget,
    *,
    size: int,
    k: int,
    seed: np.random.Generator,
) -> dict[str, Any]:
    """One operating point's numbers on the calibration split.

    Args:
        samples: The point's synthetic haplotypes, shape (m, n_variants), 0/1.
        x_train: Training haplotypes (the generator's), shape (n_train, n_variants).
        x_calibration: The calibration split, shape (m, n_variants).
        ceiling: The real reference's panel on the split (:func:`realism_ceiling`).
        ceiling_coverage: The reference's coverage in Hamming space.
        budget: The limits.
        size: Common size of the panel's sets.
        k: Nearest-neighbour rank of the coverage.
        seed: The panel's random stream.

    Returns:
        ``privacy_loss`` (+ ``_sd``), ``distance_attack_auc`` (+ ``_sd``), ``coverage_fraction``
        and ``check`` (:func:`~vae_genomics.evaluation.budget.check_budget` at mean + spread).
    """
    panel = realism_panel(samples, x_train, x_calibration, seed=seed, size=size)
    coverage = prdc(x_calibration, samples, k, "hamming")["coverage"]
    keys = ("privacy_loss", "privacy_loss_sd", "distance_attack_auc", "distance_attack_auc_sd")
    return {
        **{key: panel.get(key) for key in keys},
        "coverage_fraction": coverage / ceiling_coverage if ceiling_coverage > 0 else None,
        "check": check_budget(panel, ceiling, budget, n_train=0),  # 0: always at mean + spread
    }


def calibrate(
    model: Any,
    x_train: np.ndarray,
    x_calibration: np.ndarray,
    posteriors: tuple[np.ndarray, np.ndarray],
    head: Any,
    budget: PrivacyBudget,
    *,
    ladder: Sequence[str] = LADDER,
    max_components: int = 8,
    k: int = 5,
    seed: int = 0,
) -> Calibration:
    """Score the ladder on the calibration split and choose a point (module docstring).

    Args:
        model: The trained model.
        x_train: Training haplotypes, shape (n_train, n_variants), 0/1.
        x_calibration: The calibration split, shape (m, n_variants), 0/1, m > k.
        posteriors: The training haplotypes' posterior means and log-variances, (n_train, d).
        head: The fitted LD head the ``ld`` points share (the default generator's), or None.
        budget: The limits to meet.
        ladder: Generator names, most realistic first.
        max_components: Largest mixture of the ``gmm`` point.
        k: Nearest-neighbour rank of the coverage.
        seed: Seed of the fits and draws.

    Returns:
        A :class:`Calibration`.
    """
    x_train, x_calibration = np.asarray(x_train), np.asarray(x_calibration)
    m = len(x_calibration)
    size = common_size(m, m, len(x_train), m)
    rng = np.random.default_rng(seed)
    ceiling = realism_ceiling(x_train, x_calibration, seed=rng, size=size)
    reference = x_train[np.sort(rng.choice(len(x_train), m, replace=False))]
    ceiling_coverage = prdc(x_calibration, reference, k, "hamming")["coverage"]
    mean, log_var = posteriors
    points = []
    for name in ladder:
        gen = make_generator(name, max_components)
        gen.fit_posteriors(model, x_train, mean, log_var, seed, head=head)
        samples = gen.sample(model, m, seed=rng)["samples"]
        numbers = score_point(
            samples, x_train, x_calibration, ceiling, ceiling_coverage, budget,
            size=size, k=k, seed=rng,
        )  # fmt: skip
        points.append({"generator": name, **numbers})
    chosen = choose_point(points)
    reference_numbers = {key: ceiling.get(key) for key in ("privacy_loss", "distance_attack_auc")}
    for point in points:
        point["reference"] = reference_numbers
    _log_choice(chosen, points, budget, m)
    return Calibration(budget.to_dict(), points, chosen, m)


def _log_choice(
    chosen: str | None, points: Sequence[Mapping[str, Any]], budget: PrivacyBudget, m: int
) -> None:
    if chosen is None:
        log.warning(
            "calibration on %d haplotypes kept out of training: no generator meets the %s; the "
            "default generator is kept and `sample` will refuse unless its held-out numbers "
            "meet the budget", m, budget.describe(),
        )  # fmt: skip
        return
    cov = next(p["coverage_fraction"] for p in points if p["generator"] == chosen)
    log.info(
        "calibration on %d haplotypes kept out of training: %s meets the %s (coverage %.3f × "
        "the reference)", m, chosen, budget.describe(), cov if cov is not None else float("nan"),
    )  # fmt: skip


def calibrated_generator(
    model: Any,
    x_train: np.ndarray,
    x_calibration: np.ndarray,
    latent: Any,
    default: Any,
    budget: PrivacyBudget,
    config: Any,
    seed: int,
    summary: dict[str, Any],
) -> Any:
    """The evaluation's generator after calibration: ``default`` (already fitted) when the chosen
    point is the default or none meets the budget, else the chosen one, sharing its LD head.

    Args:
        model: The trained model.
        x_train: Training haplotypes.
        x_calibration: The calibration split.
        latent: The training posteriors (``train_mean``, ``train_log_var``).
        default: The fitted default generator (its head is shared).
        budget: The limits.
        config: The evaluation config (``gmm_max_components``, ``prdc_k``).
        seed: Seed of the fits and draws.
        summary: Gets ``calibration``, and ``generator`` when the choice differs.

    Returns:
        The fitted generator of the evaluation's ``generated_samples``.
    """
    posteriors = (latent.train_mean, latent.train_log_var)
    result = calibrate(
        model, x_train, x_calibration, posteriors, default.head, budget,
        max_components=config.gmm_max_components, k=config.prdc_k, seed=seed,
    )  # fmt: skip
    summary["calibration"] = result.to_dict()
    if result.generator == default.name:
        return default
    gen = make_generator(result.generator, config.gmm_max_components)
    gen.fit_posteriors(model, x_train, *posteriors, seed, head=default.head)
    summary["generator"] = {"name": gen.name, "source": gen.source.name, "decoder": gen.decoder}
    return gen
