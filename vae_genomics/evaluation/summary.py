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
import time
from typing import Any

import numpy as np

from vae_genomics.common.io import to_jsonable
from vae_genomics.config import EvaluationConfig
from vae_genomics.evaluation.latent import latent_statistics, mutual_information, reencoding_error
from vae_genomics.evaluation.likelihood import importance_weighted_nll
from vae_genomics.evaluation.metrics import heldout_objective
from vae_genomics.evaluation.modeseek import mode_seeking_report
from vae_genomics.evaluation.pca import HaplotypePCA
from vae_genomics.evaluation.prdc import kth_neighbour_distances, pairwise_distances
from vae_genomics.evaluation.realism import common_size, realism_ceiling, realism_panel
from vae_genomics.evaluation.result import Evaluation
from vae_genomics.evaluation.verdict import VERDICTS, VerdictThresholds, headline
from vae_genomics.generate.generators import DEFAULT_GENERATOR, make_generator
from vae_genomics.generate.prior import model_prior
from vae_genomics.generate.samplers import (
    AggregatePosteriorGMM,
    decode_probabilities,
    posterior_reconstructions,
    sample_prior,
)
from vae_genomics.models.inference import encode
from vae_genomics.models.vae import HaplotypeVAE

log = logging.getLogger(__name__)

#: The "after" sets, in report order (the report's ``labels`` module says what each one shows).
SET_NAMES = (
    "reconstruction_probabilities",
    "reconstruction_samples",
    "reconstruction_threshold",
    "prior_samples",
    "generated_samples",
)

#: The generated sets that get the realism and privacy panel (reconstructions are not generated).
GENERATED_SETS = ("prior_samples", "generated_samples")


def thresholds_from_config(config: EvaluationConfig) -> VerdictThresholds:
    """The verdict thresholds of an evaluation config."""
    return VerdictThresholds(**config.verdict.model_dump())


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
    thresholds = thresholds_from_config(config)
    # one independent stream per use, so that e.g. the held-out subsample and the ceiling sample
    # depend on the data and the seed only, not on what a model's samplers consumed before them
    rng = dict(
        zip(
            ("subsample", "reconstruction", "prior", "gmm", "modeseek", "figure", "realism"),
            (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(7)),
            strict=True,
        )
    )
    timer = _Timer()
    x_train = np.asarray(x_train)
    x_heldout = np.asarray(x_heldout)
    if len(x_heldout) <= config.prdc_k:
        raise ValueError(
            f"{len(x_heldout)} held-out haplotypes; the evaluation's k-NN statistics need more than "
            f"evaluation.prdc_k = {config.prdc_k}. Raise training.validation_fraction."
        )
    if len(x_heldout) > config.max_points:
        rows = np.sort(rng["subsample"].choice(len(x_heldout), config.max_points, replace=False))
        x_heldout = x_heldout[rows]
        populations = None if populations is None else np.asarray(populations)[rows]
    n_ref = len(x_heldout)

    summary: dict[str, Any] = {}
    with timer("heldout"):
        summary["heldout"] = heldout_objective(
            model, x_heldout, n_samples=config.elbo_samples, seed=seed
        )
    with timer("iw_nll"):
        iw = importance_weighted_nll(model, x_heldout, n_samples=config.iw_samples, seed=seed)
        summary["iw_nll"] = {k: v for k, v in iw.items() if k != "per_haplotype"}
    with timer("latent"):
        mean_val, log_var_val = encode(model, x_heldout)
        mean_train, log_var_train = encode(model, x_train)
        summary["latent"] = latent_statistics(mean_val, log_var_val, prior=model_prior(model))
        summary["mutual_information"] = mutual_information(
            np.concatenate([mean_train, mean_val]),
            np.concatenate([log_var_train, log_var_val]),
            batch_size=config.mi_batch_size,
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
    with timer("samplers"):
        gmm = _gmm(config, len(x_train), seed).fit(mean_train, log_var_train)
        summary["gmm"] = {
            "n_components": gmm.n_components_,
            "chosen_by": "bic" if config.gmm_components == "bic" else "config",
            "bic": getattr(gmm, "bic_", None),
            "n_fit_points": gmm.n_fit_points_,
        }
        gen = make_generator(generator, config.gmm_max_components)
        gen.fit_posteriors(model, x_train, mean_train, log_var_train, seed)
        summary["generator"] = {"name": gen.name, "source": gen.source.name, "decoder": gen.decoder}
        if gen.head is not None:
            # the same bound with the generator's LD head as the decoder's likelihood
            iw_head = importance_weighted_nll(
                model, x_heldout, n_samples=config.iw_samples, seed=seed, head=gen.head
            )
            summary["iw_nll"]["nll_ld_head"] = iw_head["nll"]
        recon = posterior_reconstructions(model, x_heldout, seed=rng["reconstruction"])
        sets = {
            "reconstruction_probabilities": recon["probabilities"],
            "reconstruction_samples": recon["samples"],
            "reconstruction_threshold": recon["threshold"],
            "prior_samples": sample_prior(model, n_ref, seed=rng["prior"])["samples"],
            "generated_samples": gen.sample(model, n_ref, seed=rng["gmm"])["samples"],
        }
    with timer("realism"):
        size = common_size(n_ref, n_ref, len(x_train), config.max_points)
        summary["realism"] = {
            "ceiling": realism_ceiling(
                x_train, x_heldout, positions, seed=rng["realism"], size=size
            ),
            "sets": {
                name: realism_panel(
                    sets[name], x_train, x_heldout, positions, seed=rng["realism"], size=size
                )
                for name in GENERATED_SETS
            },
        }
    with timer("pca"):
        pca = HaplotypePCA(n_components=max(n_components, thresholds.n_pcs)).fit(x_train)
    with timer("modeseek"):
        modeseek = mode_seeking_report(
            x_train,
            x_heldout,
            sets,
            pca=pca,
            thresholds=thresholds,
            k=config.prdc_k,
            ld_max_offset=config.ld_max_offset,
            max_points=config.max_points,
            seed=rng["modeseek"],
            privacy=summary["realism"]["sets"],
        )
        if populations is not None:
            n_pcs = modeseek["settings"]["n_pcs"]
            ref_coords = pca.transform(x_heldout)[:, :n_pcs]
            for name, x in sets.items():
                modeseek["sets"][name]["coverage_by_population"] = coverage_by_group(
                    ref_coords, pca.transform(x)[:, :n_pcs], populations, config.prdc_k
                )
        summary["modeseek"] = modeseek
    verdicts = {name: s["verdict"]["verdict"] for name, s in modeseek["sets"].items()}
    worst = max(verdicts, key=lambda name: VERDICTS.index(verdicts[name]))
    summary["verdicts"] = verdicts
    summary["worst"] = {"set": worst, "verdict": verdicts[worst]}
    summary["headline"] = headline(verdicts)
    with timer("traversals"):
        activity = np.asarray(summary["latent"]["activity"])
        active = [int(d) for d in np.argsort(-activity) if summary["latent"]["active"][d]]
        dims = active[: config.traversal_dims]
        traversals = latent_traversals(
            model, mean_train.mean(axis=0), dims, steps=config.traversal_steps
        )
        summary["traversal_dims"] = [d + 1 for d in dims]  # 1-based, as in the report
    ceiling_rows = rng["figure"].choice(len(x_train), min(n_ref, len(x_train)), replace=False)
    summary["settings"] = {
        "n_heldout": n_ref,
        "n_train": len(x_train),
        "seed": seed,
        **config.model_dump(mode="json", exclude={"verdict"}),
    }
    summary["seconds"] = timer.seconds
    log.info(
        "evaluation: %s (%s)",
        ", ".join(f"{n} {v}" for n, v in verdicts.items()),
        ", ".join(f"{k} {v:.1f}s" for k, v in timer.seconds.items()),
    )
    return Evaluation(
        summary=to_jsonable(summary),
        pca=pca,
        heldout=x_heldout,
        heldout_populations=None if populations is None else np.asarray(populations).astype(str),
        ceiling=x_train[np.sort(ceiling_rows)],
        sets=sets,
        heldout_latent=mean_val,
        traversals=traversals,
        gmm=gmm,
    )


class _Timer:
    """Wall-clock seconds per named block (``with timer("name"): ...``)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._name = ""
        self._start = 0.0

    def __call__(self, name: str) -> _Timer:
        self._name = name
        return self

    def __enter__(self) -> None:
        self._start = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.seconds[self._name] = round(time.perf_counter() - self._start, 3)
