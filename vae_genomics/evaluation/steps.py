"""The steps of :func:`~vae_genomics.evaluation.summary.evaluate_model`, each a named function.

What the model gives: the random streams and the held-out subsample (shared with ``evaluate
--synthetic``), the held-out numbers and latent diagnostics, the aggregate-posterior mixture a run
stores, the generator and the "after" sets, and the latent traversals. Judging the sets (realism,
mode-seeking numbers, verdicts, coverage per population) is :mod:`~vae_genomics.evaluation.judging`.
"""

from __future__ import annotations

import time
from typing import Any, NamedTuple

import numpy as np

from vae_genomics.config import EvaluationConfig
from vae_genomics.evaluation.latent import latent_statistics, mutual_information, reencoding_error
from vae_genomics.evaluation.likelihood import importance_weighted_nlls
from vae_genomics.evaluation.metrics import heldout_objective
from vae_genomics.evaluation.model_attack import likelihood_attack_numbers
from vae_genomics.generate.generators import make_generator
from vae_genomics.generate.prior import model_prior
from vae_genomics.generate.samplers import (
    AggregatePosteriorGMM,
    decode_probabilities,
    posterior_reconstructions,
    sample_prior,
)
from vae_genomics.models.inference import encode
from vae_genomics.models.vae import HaplotypeVAE


def seeded_streams(seed: int, names: tuple[str, ...]) -> dict[str, np.random.Generator]:
    """One independent random stream per use, spawned from one seed.

    A use's draws then depend on the data and the seed only, not on what another use consumed
    before it (e.g. the held-out subsample and the ceiling sample, whatever a model's samplers drew).

    Args:
        seed: Seed of every stream.
        names: Name of each use, in spawn order (the order fixes each name's stream).

    Returns:
        Name → generator, in ``names`` order.
    """
    streams = np.random.SeedSequence(seed).spawn(len(names))
    return dict(zip(names, (np.random.default_rng(s) for s in streams), strict=True))


def subsample_heldout(
    x_heldout: np.ndarray,
    max_points: int,
    rng: np.random.Generator,
    populations: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """At most ``max_points`` held-out haplotypes (and their labels), drawn once, in file order.

    Args:
        x_heldout: Held-out haplotypes, shape (n_heldout, n_variants).
        max_points: Most haplotypes kept; all of them when there are no more.
        rng: The subsample's stream (nothing is drawn when all are kept).
        populations: Population label of each held-out haplotype, or None.

    Returns:
        The kept haplotypes and their labels (None when ``populations`` is None).
    """
    if len(x_heldout) > max_points:
        rows = np.sort(rng.choice(len(x_heldout), max_points, replace=False))
        x_heldout = x_heldout[rows]
        populations = None if populations is None else np.asarray(populations)[rows]
    return x_heldout, populations


def check_heldout_size(n_heldout: int, config: EvaluationConfig) -> None:
    """Raise ``ValueError`` when the held-out set is too small for the k-NN statistics.

    Args:
        n_heldout: Held-out haplotypes given.
        config: ``prdc_k``.
    """
    if n_heldout <= config.prdc_k:
        raise ValueError(
            f"{n_heldout} held-out haplotypes; the evaluation's k-NN statistics need more than "
            f"evaluation.prdc_k = {config.prdc_k}. Raise training.validation_fraction."
        )


class Latent(NamedTuple):
    """The latent diagnostics' numbers and the posteriors later steps reuse."""

    summary: dict[str, Any]
    heldout_mean: np.ndarray
    train_mean: np.ndarray
    train_log_var: np.ndarray


def model_bounds(
    model: HaplotypeVAE,
    x_train: np.ndarray,
    x_heldout: np.ndarray,
    head: Any,
    config: EvaluationConfig,
    seed: int,
    timer: Timer,
    summary: dict[str, Any],
) -> None:
    """The held-out importance-weighted NLL and the likelihood attack, each part timed.

    With an LD head (the generator's), the same bound with the head as the decoder's likelihood
    (``iw_nll.nll_ld_head``) comes from the same draws, decoded once.

    Args:
        model: Trained model.
        x_train: Real training haplotypes.
        x_heldout: Held-out haplotypes compared.
        head: The generator's fitted LD head, or None.
        config: ``iw_samples``.
        seed: Seed of the draws.
        timer: Gets ``iw_nll`` and ``likelihood_attack``.
        summary: Gets ``iw_nll`` (``nll``, ``neg_elbo``, ``n_samples``; ``nll_ld_head`` with a
            head) and ``likelihood_attack``.
    """
    with timer("iw_nll"):
        heads = (None,) if head is None else (None, head)
        bounds = importance_weighted_nlls(model, x_heldout, heads, config.iw_samples, seed)
        summary["iw_nll"] = {k: v for k, v in bounds[0].items() if k != "per_haplotype"}
        if head is not None:
            summary["iw_nll"]["nll_ld_head"] = bounds[1]["nll"]
    with timer("likelihood_attack"):  # membership inference on the model itself
        summary["likelihood_attack"] = likelihood_attack_numbers(
            model, x_train, np.asarray(bounds[0]["per_haplotype"]), config.iw_samples, seed
        )


def latent_diagnostics(
    model: HaplotypeVAE, x_train: np.ndarray, x_heldout: np.ndarray, mi_batch_size: int, seed: int
) -> Latent:
    """Active units, mutual information and re-encoding error (``latent`` and its neighbours).

    Args:
        model: Trained model.
        x_train: Real training haplotypes.
        x_heldout: Held-out haplotypes compared.
        mi_batch_size: Minibatch of the mutual-information estimate.
        seed: Seed of the draws.

    Returns:
        ``latent``, ``mutual_information`` and ``reencoding`` of the summary, and the posteriors.
    """
    mean_val, log_var_val = encode(model, x_heldout)
    mean_train, log_var_train = encode(model, x_train)
    summary: dict[str, Any] = {}
    summary["latent"] = latent_statistics(mean_val, log_var_val, prior=model_prior(model))
    summary["mutual_information"] = mutual_information(
        np.concatenate([mean_train, mean_val]),
        np.concatenate([log_var_train, log_var_val]),
        batch_size=mi_batch_size,
        seed=seed,
    )
    at_mean = reencoding_error(model, x_heldout)
    at_draw = reencoding_error(model, x_heldout, from_sample=True, seed=seed)
    summary["reencoding"] = {
        "mean": at_mean["mean"],
        "per_dim": at_mean["per_dim"],
        "sample_mean": at_draw["mean"],
        "sample_per_dim": at_draw["per_dim"],
    }
    return Latent(summary, mean_val, mean_train, log_var_train)


def fitted_generator(
    model: HaplotypeVAE,
    x_train: np.ndarray,
    latent: Latent,
    name: str,
    config: EvaluationConfig,
    seed: int,
    summary: dict[str, Any],
) -> Any:
    """Fit the generator of ``generated_samples`` and record it in ``summary`` (``generator``).

    Args:
        model: Trained model.
        x_train: Real training haplotypes.
        latent: The training haplotypes' posteriors.
        name: Generator name.
        config: ``gmm_max_components``.
        seed: Seed of the fit.
        summary: Gets ``generator``.

    Returns:
        The fitted generator.
    """
    gen = make_generator(name, config.gmm_max_components)
    gen.fit_posteriors(model, x_train, latent.train_mean, latent.train_log_var, seed)
    summary["generator"] = {"name": gen.name, "source": gen.source.name, "decoder": gen.decoder}
    return gen


def sets_to_judge(
    model: HaplotypeVAE, x_heldout: np.ndarray, gen: Any, rng: dict[str, np.random.Generator]
) -> dict[str, np.ndarray]:
    """The "after" sets of :data:`SET_NAMES`, each as large as the held-out set compared.

    Args:
        model: Trained model.
        x_heldout: Held-out haplotypes compared (the reconstructions are of them).
        gen: The fitted generator of ``generated_samples``.
        rng: The ``reconstruction``, ``prior`` and ``gmm`` streams.

    Returns:
        Set name → haplotypes or probabilities, in report order.
    """
    n_ref = len(x_heldout)
    recon = posterior_reconstructions(model, x_heldout, seed=rng["reconstruction"])
    return {
        "reconstruction_probabilities": recon["probabilities"],
        "reconstruction_samples": recon["samples"],
        "reconstruction_threshold": recon["threshold"],
        "prior_samples": sample_prior(model, n_ref, seed=rng["prior"])["samples"],
        "generated_samples": gen.sample(model, n_ref, seed=rng["gmm"])["samples"],
    }


def model_numbers(
    model: HaplotypeVAE,
    x_train: np.ndarray,
    x_heldout: np.ndarray,
    config: EvaluationConfig,
    seed: int,
    timer: Timer,
) -> tuple[dict[str, Any], Latent]:
    """The held-out objective and the latent diagnostics, each part timed (the bounds, which
    share their draws with the generator's head, are :func:`model_bounds`).

    Args:
        model: Trained model.
        x_train: Real training haplotypes.
        x_heldout: Held-out haplotypes compared.
        config: ``elbo_samples`` and ``mi_batch_size``.
        seed: Seed of the draws.
        timer: Gets ``heldout`` and ``latent``.

    Returns:
        The summary's ``heldout``, ``latent``, ``mutual_information`` and ``reencoding``, and the
        posteriors later steps reuse.
    """
    summary: dict[str, Any] = {}
    with timer("heldout"):
        summary["heldout"] = heldout_objective(
            model, x_heldout, n_samples=config.elbo_samples, seed=seed
        )
    with timer("latent"):
        latent = latent_diagnostics(model, x_train, x_heldout, config.mi_batch_size, seed)
        summary.update(latent.summary)
    return summary, latent


class Timer:
    """Wall-clock seconds per named block (``with timer("name"): ...``)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._name = ""
        self._start = 0.0

    def __call__(self, name: str) -> Timer:
        self._name = name
        return self

    def __enter__(self) -> None:
        self._start = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.seconds[self._name] = round(time.perf_counter() - self._start, 3)


def fit_aggregate_gmm(
    model: HaplotypeVAE, x_train: np.ndarray, config: EvaluationConfig, seed: int = 0
) -> AggregatePosteriorGMM:
    """Gaussian mixture on the aggregate posterior of the training haplotypes (``config`` options).

    Args:
        model: Trained model.
        x_train: Real training haplotypes, shape (n_train, n_variants).
        config: ``gmm_components`` (a number, or ``bic``) and ``gmm_max_components``.
        seed: Seed of the posterior draws and the fit.

    Returns:
        The fitted mixture.
    """
    mean, log_var = encode(model, x_train)
    return _gmm(config, len(x_train), seed).fit(mean, log_var)


def _gmm(config: EvaluationConfig, n_train: int, seed: int) -> AggregatePosteriorGMM:
    return AggregatePosteriorGMM(
        n_components=None if config.gmm_components == "bic" else int(config.gmm_components),
        max_components=min(config.gmm_max_components, max(1, n_train // 2)),
        random_state=seed,
    )


def latent_traversals(
    model: HaplotypeVAE,
    centre: np.ndarray,
    dims: list[int],
    steps: int = 9,
    span: float = 2.0,
) -> dict[str, Any]:
    """Decode codes that vary one latent dimension at a time over ``[-span, span]``.

    Args:
        model: Trained model.
        centre: The code the other dimensions keep, shape (latent_dim,).
        dims: Dimensions to traverse (0-based).
        steps: Values per dimension, evenly spaced from ``-span`` to ``span`` (prior sds).
        span: Half-width in prior standard deviations (the prior is N(0, 1), so also in latent units).

    Returns:
        ``values`` (steps,), ``dims`` (list), ``centre_probabilities`` (n_variants,) and
        ``probabilities``, shape (len(dims), steps, n_variants), float32.
    """
    values = np.linspace(-span, span, steps)
    centre = np.asarray(centre, dtype=np.float64)
    codes = np.tile(centre, (len(dims) * steps, 1))
    for i, d in enumerate(dims):
        codes[i * steps : (i + 1) * steps, d] = values
    probs = decode_probabilities(model, codes) if dims else np.zeros((0, model.n_variants))
    return {
        "values": values,
        "dims": list(dims),
        "centre_probabilities": decode_probabilities(model, centre[None])[0],
        "probabilities": probs.reshape(len(dims), steps, model.n_variants).astype(np.float32),
    }


def stored_mixture(
    latent: Latent, config: EvaluationConfig, n_train: int, seed: int
) -> tuple[AggregatePosteriorGMM, dict[str, Any]]:
    """Fit the aggregate-posterior mixture a run stores, for ``sample --sampler gmm``.

    No set judged here is drawn from it (``generated_samples`` comes from the run's generator); it
    is fitted so that the run can store it, and its size is recorded under ``gmm``.

    Args:
        latent: The training haplotypes' posteriors.
        config: ``gmm_components`` and ``gmm_max_components``.
        n_train: Training haplotypes.
        seed: Seed of the fit.

    Returns:
        The fitted mixture and the summary's ``gmm`` entry.
    """
    gmm = _gmm(config, n_train, seed).fit(latent.train_mean, latent.train_log_var)
    return gmm, {
        "n_components": gmm.n_components_,
        "chosen_by": "bic" if config.gmm_components == "bic" else "config",
        "bic": getattr(gmm, "bic_", None),
        "n_fit_points": gmm.n_fit_points_,
    }


def traversal_dims(latent: dict[str, Any], most: int) -> list[int]:
    """The most active latent dimensions (0-based, most active first), at most ``most``.

    Args:
        latent: The summary's ``latent`` entry (``activity`` and ``active``).
        most: Most dimensions.

    Returns:
        The dimensions to traverse.
    """
    activity = np.asarray(latent["activity"])
    active = [int(d) for d in np.argsort(-activity) if latent["active"][d]]
    return active[:most]


def active_traversals(
    model: HaplotypeVAE, latent: Latent, summary: dict[str, Any], config: EvaluationConfig
) -> dict[str, Any]:
    """Latent traversals of the most active dimensions from the training haplotypes' mean code.

    Args:
        model: Trained model.
        latent: The training haplotypes' posterior means.
        summary: Its ``latent`` entry picks the dimensions; gets ``traversal_dims`` (1-based).
        config: ``traversal_dims`` and ``traversal_steps``.

    Returns:
        What :func:`latent_traversals` returns.
    """
    dims = traversal_dims(summary["latent"], config.traversal_dims)
    traversals = latent_traversals(
        model, latent.train_mean.mean(axis=0), dims, steps=config.traversal_steps
    )
    summary["traversal_dims"] = [d + 1 for d in dims]  # 1-based, as in the report
    return traversals
