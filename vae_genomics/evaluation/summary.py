"""Everything a run's report and ``metrics.json`` need, computed once from a model and real haplotypes.

:func:`evaluate_model` orchestrates the evaluation layer; it adds no new statistic of its own except
two small views of existing ones (coverage per population, latent traversals):

- held-out objective and its parts (rate = KL, distortion = reconstruction NLL;
  :func:`~vae_genomics.evaluation.metrics.heldout_objective`), importance-weighted NLL
  (:mod:`~vae_genomics.evaluation.likelihood`);
- latent diagnostics on the held-out haplotypes: active units, per-dimension activity and KL,
  re-encoding error (from the posterior mean and from a posterior draw); mutual information I_q over
  all haplotypes given, training and held-out together, so its minibatches (and its ``log b`` upper
  bound) are as large as the data allow (:mod:`~vae_genomics.evaluation.latent`);
- the "after" sets of :data:`SET_NAMES` (reconstructions of the held-out haplotypes from the
  posterior mean as decoder probabilities, Bernoulli draws and 0.5 calls; prior samples as
  Bernoulli draws; ``generated_samples`` from the default generator,
  :data:`~vae_genomics.generate.generators.DEFAULT_GENERATOR`, what ``sample`` writes), their
  mode-seeking numbers and verdicts beside the real-train vs real-held-out ceiling
  (:func:`~vae_genomics.evaluation.modeseek.mode_seeking_report`);
- the realism and privacy panel of the generated sets, beside its real-vs-real ceiling
  (:mod:`~vae_genomics.evaluation.realism`), whose privacy numbers feed their verdicts; the
  ``headline`` verdict of the section, from the reconstructions and the default generator
  (:func:`~vae_genomics.evaluation.verdict.headline`, the sweep's rule; prior samples are advisory);
- PCA-space coverage of each population's held-out haplotypes, when labels are given: which
  populations a mode-seeking set misses (the same balls as ``prdc_pca.coverage``, so the
  count-weighted mean over populations is that coverage);
- latent traversals: from the mean code (the mean of the training haplotypes' posterior means), one
  active dimension at a time is set to values over ±2 *prior* standard deviations, i.e. [-2, 2], and
  decoded to ALT-allele probabilities.

Every set has as many haplotypes as the held-out set compared (at most ``max_points``, subsampled
once, here, so the per-population coverage and the report's overlays use exactly the compared
points); the reconstructions are of those held-out haplotypes, the generated sets are that large.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from vae_genomics.common.io import to_jsonable
from vae_genomics.config import EvaluationConfig
from vae_genomics.evaluation.judging import (
    GENERATED_SETS,
    coverage_by_group,
    generated_realism,
    headline_verdicts,
    judge_sets,
    judge_with_coverage,
    thresholds_from_config,
)
from vae_genomics.evaluation.pca import HaplotypePCA
from vae_genomics.evaluation.result import Evaluation
from vae_genomics.evaluation.steps import (
    Timer,
    active_traversals,
    check_heldout_size,
    fit_aggregate_gmm,
    fitted_generator,
    latent_traversals,
    model_bounds,
    model_numbers,
    seeded_streams,
    sets_to_judge,
    stored_mixture,
    subsample_heldout,
)
from vae_genomics.generate.generators import DEFAULT_GENERATOR
from vae_genomics.models.vae import HaplotypeVAE

__all__ = [
    "GENERATED_SETS",
    "SET_NAMES",
    "coverage_by_group",
    "evaluate_model",
    "fit_aggregate_gmm",
    "judge_sets",
    "latent_traversals",
    "thresholds_from_config",
]

log = logging.getLogger(__name__)

#: The "after" sets, in report order (the report's ``labels`` module says what each one shows).
SET_NAMES = (
    "reconstruction_probabilities",
    "reconstruction_samples",
    "reconstruction_threshold",
    "prior_samples",
    "generated_samples",
)


def evaluate_model(
    model: HaplotypeVAE,
    x_train: np.ndarray,
    x_heldout: np.ndarray,
    config: EvaluationConfig | None = None,
    populations: np.ndarray | None = None,
    n_components: int = 4,
    seed: int = 0,
    positions: np.ndarray | None = None,
    generator: str = DEFAULT_GENERATOR,
) -> Evaluation:
    """Evaluate a trained model against real training and held-out haplotypes.

    Args:
        model: Trained model.
        x_train: Real training haplotypes, shape (n_train, n_variants), 0/1.
        x_heldout: Real held-out haplotypes, shape (n_heldout, n_variants), 0/1; n_heldout > k.
        config: Evaluation options (defaults when None).
        populations: Population label of each held-out haplotype, shape (n_heldout,), or None.
        n_components: Principal components fitted (at least ``config.verdict.n_pcs`` are).
        seed: Seed of every draw (subsampling, posterior draws, generated sets, mixture fit).
        positions: Site positions (bp), shape (n_variants,), for the LD decay; the variant index
            when None.
        generator: Generator of ``generated_samples`` (a name of
            :func:`~vae_genomics.generate.generators.make_generator`).

    Returns:
        An :class:`Evaluation`. Its ``summary`` (JSON-safe: NaN and inf become None) holds
        ``heldout`` (loss, neg_elbo, reconstruction = distortion, kl = rate, kl_weight, kl_per_dim;
        nats per haplotype), ``iw_nll`` (nll, neg_elbo of the same draws, n_samples), ``latent``
        (active_units, activity, active, kl_per_dim, kl; held-out), ``mutual_information``,
        ``reencoding`` (mean, per_dim, sample_mean, sample_per_dim), ``gmm`` (n_components, bic),
        ``generator`` (the generator of ``generated_samples``: name, source, decoder),
        ``modeseek`` (ceiling, sets with their verdicts, thresholds, settings; each set also has
        ``coverage_by_population`` when labels are given), ``realism`` (``ceiling`` and ``sets``:
        the realism and privacy panel of the generated sets), ``verdicts`` (set → verdict),
        ``worst`` (the worst set and its verdict), ``headline`` (reconstructions and the
        default generator: the set and its verdict), ``traversal_dims`` and ``seconds`` per part.
    """
    config = config or EvaluationConfig()
    rng = seeded_streams(seed, _STREAMS)
    timer = Timer()
    x_train = np.asarray(x_train)
    check_heldout_size(len(x_heldout), config)
    x_heldout, populations = subsample_heldout(
        np.asarray(x_heldout), config.max_points, rng["subsample"], populations
    )
    summary, latent = model_numbers(model, x_train, x_heldout, config, seed, timer)
    with timer("samplers"):
        gmm, summary["gmm"] = stored_mixture(latent, config, len(x_train), seed)
        gen = fitted_generator(model, x_train, latent, generator, config, seed, summary)
        sets = sets_to_judge(model, x_heldout, gen, rng)
    model_bounds(model, x_train, x_heldout, gen.head, config, seed, timer, summary)
    with timer("realism"):
        summary["realism"] = generated_realism(sets, x_train, x_heldout, positions, config, rng)
    with timer("pca"):
        n_pcs = max(n_components, thresholds_from_config(config).n_pcs)
        pca = HaplotypePCA(n_components=n_pcs).fit(x_train)
    with timer("modeseek"):
        summary["modeseek"] = judge_with_coverage(
            x_train, x_heldout, sets, pca, config, rng, summary, populations
        )
    summary.update(headline_verdicts(summary["modeseek"]))
    with timer("traversals"):
        traversals = active_traversals(model, latent, summary, config)
    summary["settings"] = _settings(len(x_heldout), len(x_train), seed, config)
    summary["seconds"] = timer.seconds
    _log_evaluation(summary["verdicts"], timer.seconds)
    return Evaluation(
        summary=to_jsonable(summary),
        pca=pca,
        heldout=x_heldout,
        heldout_populations=None if populations is None else np.asarray(populations).astype(str),
        ceiling=_ceiling_sample(x_train, len(x_heldout), rng["figure"]),
        sets=sets,
        heldout_latent=latent.heldout_mean,
        traversals=traversals,
        gmm=gmm,
    )


#: The random streams of :func:`evaluate_model`, in spawn order.
_STREAMS = ("subsample", "reconstruction", "prior", "gmm", "modeseek", "figure", "realism")


def _ceiling_sample(x_train: np.ndarray, n_ref: int, rng: np.random.Generator) -> np.ndarray:
    """A sample of training haplotypes as large as the held-out set compared, for the figures.

    Args:
        x_train: Real training haplotypes.
        n_ref: Held-out haplotypes compared.
        rng: The ``figure`` stream.

    Returns:
        The sampled haplotypes, in file order.
    """
    rows = rng.choice(len(x_train), min(n_ref, len(x_train)), replace=False)
    return x_train[np.sort(rows)]


def _settings(n_ref: int, n_train: int, seed: int, config: EvaluationConfig) -> dict[str, Any]:
    """The summary's ``settings``: sizes, seed and the evaluation config (but its thresholds)."""
    return {
        "n_heldout": n_ref,
        "n_train": n_train,
        "seed": seed,
        **config.model_dump(mode="json", exclude={"verdict"}),
    }


def _log_evaluation(verdicts: dict[str, str], seconds: dict[str, float]) -> None:
    """Log each set's verdict and the seconds of each part."""
    log.info(
        "evaluation: %s (%s)",
        ", ".join(f"{n} {v}" for n, v in verdicts.items()),
        ", ".join(f"{k} {v:.1f}s" for k, v in seconds.items()),
    )
