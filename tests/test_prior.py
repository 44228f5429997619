"""The learned mixture-of-Gaussians prior (objective.prior.kind: mog): density, KL, sampling, IW-NLL."""

import json

import keras
import numpy as np
import pytest
from pydantic import ValidationError
from scipy.special import logsumexp
from scipy.stats import multivariate_normal
from vcf_factory import structured_haplotypes

from vae_genomics.config import ObjectiveConfig
from vae_genomics.evaluation.latent import latent_statistics
from vae_genomics.evaluation.likelihood import bernoulli_log_likelihood, importance_weighted_nll
from vae_genomics.generate.generators import make_generator
from vae_genomics.generate.prior import PriorMixture, model_prior
from vae_genomics.generate.samplers import sample_prior
from vae_genomics.models.inference import encode
from vae_genomics.models.losses import mixture_log_density, mixture_marginal_log_density
from vae_genomics.models.vae import HaplotypeVAE

MOG = {"prior": {"kind": "mog", "components": 3}}


@pytest.fixture
def mixture(rng):
    means = np.array([[-2.0, 1.0], [3.0, 0.5]])
    log_vars = np.log(np.array([[0.5, 2.0], [1.5, 0.25]]))
    return PriorMixture(np.array([0.3, 0.7]), means, log_vars)


def _set_prior(model, weights, means, variances):
    model.prior_logits.assign(np.log(weights).astype(np.float32))
    model.prior_means.assign(np.asarray(means, np.float32))
    model.prior_log_vars.assign(np.log(variances).astype(np.float32))


def test_mixture_density_matches_scipy(mixture, rng):
    z = rng.normal(scale=2.0, size=(50, 2))
    comps = [
        multivariate_normal(m, np.diag(np.exp(v))).logpdf(z)
        for m, v in zip(mixture.means, mixture.log_vars, strict=True)
    ]
    want = logsumexp(np.stack(comps, 1) + np.log(mixture.weights), axis=1)
    np.testing.assert_allclose(mixture.log_density(z), want, rtol=1e-10)
    for d in range(2):
        marg = [
            multivariate_normal(m[d], np.exp(v[d])).logpdf(z[:, d])
            for m, v in zip(mixture.means, mixture.log_vars, strict=True)
        ]
        want_d = logsumexp(np.stack(marg, 1) + np.log(mixture.weights), axis=1)
        np.testing.assert_allclose(mixture.marginal_log_density(z)[:, d], want_d, rtol=1e-10)
    # The Keras versions used in training agree with the numpy ones.
    args = (np.log(mixture.weights), mixture.means, mixture.log_vars)
    np.testing.assert_allclose(mixture_log_density(z, *args), mixture.log_density(z), rtol=1e-6)
    np.testing.assert_allclose(
        mixture_marginal_log_density(z, *args), mixture.marginal_log_density(z), rtol=1e-6
    )


def test_mixture_samples_have_the_mixture_moments(mixture):
    z = mixture.sample(200_000, np.random.default_rng(0))
    mean = mixture.weights @ mixture.means
    second = mixture.weights @ (np.exp(mixture.log_vars) + mixture.means**2)
    np.testing.assert_allclose(z.mean(0), mean, atol=0.02)
    np.testing.assert_allclose(z.var(0), second - mean**2, rtol=0.02)


def test_standard_normal_prior_draws_as_numpy_does():
    prior = PriorMixture.standard_normal(4)
    assert prior.is_standard_normal
    z = prior.sample(7, np.random.default_rng(5))
    np.testing.assert_array_equal(z, np.random.default_rng(5).standard_normal((7, 4)))


def test_free_bits_with_a_learned_prior_is_refused():
    with pytest.raises(ValidationError, match=r"free_bits.*objective\.prior\.kind"):
        ObjectiveConfig.model_validate({"free_bits": 0.5, **MOG})


def _mog_model(latent=2, seed=0, **kw):
    keras.utils.set_random_seed(seed)
    return HaplotypeVAE(20, latent, [16], objective=MOG, seed=seed, **kw)


def test_kl_is_log_q_minus_log_prior_at_the_draw(rng):
    model = _mog_model()
    _set_prior(model, [0.2, 0.5, 0.3], rng.normal(size=(3, 2)), np.exp(rng.normal(size=(3, 2))))
    mean, log_var = rng.normal(size=(6, 2)), rng.normal(scale=0.5, size=(6, 2))
    z = mean + np.exp(0.5 * log_var) * rng.normal(size=(6, 2))
    kl, per_dim = (
        np.asarray(t) for t in model.kl_terms(*(a.astype(np.float32) for a in (z, mean, log_var)))
    )
    log_q = multivariate_normal.logpdf
    want = np.array(
        [log_q(z[i], mean[i], np.diag(np.exp(log_var[i]))) for i in range(6)]
    ) - model_prior(model).log_density(z)
    np.testing.assert_allclose(kl, want, rtol=1e-4, atol=1e-4)
    assert per_dim.shape == (6, 2)


def test_a_standard_normal_mixture_gives_the_analytic_kl_on_average(rng):
    model = _mog_model()
    _set_prior(model, [1 / 3] * 3, np.zeros((3, 2)), np.ones((3, 2)))
    mean = np.tile(rng.normal(size=(1, 2)), (40_000, 1)).astype(np.float32)
    log_var = np.tile(rng.normal(scale=0.5, size=(1, 2)), (40_000, 1)).astype(np.float32)
    z = mean + np.exp(0.5 * log_var) * rng.standard_normal(mean.shape).astype(np.float32)
    kl, per_dim = (np.asarray(t, np.float64).mean(0) for t in model.kl_terms(z, mean, log_var))
    analytic = 0.5 * (np.exp(log_var[0]) + mean[0] ** 2 - 1 - log_var[0])
    assert kl == pytest.approx(analytic.sum(), abs=0.03)
    np.testing.assert_allclose(per_dim, analytic, atol=0.03)
    stats = latent_statistics(mean[:5000], log_var[:5000], prior=model_prior(model))
    assert stats["kl"] == pytest.approx(analytic.sum(), abs=0.1)


def test_the_prior_is_trained_and_round_trips_through_keras(tmp_path):
    x, _ = structured_haplotypes(n_samples=64, n_variants=20, seed=2)
    model = _mog_model()
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    before = [
        v.numpy().copy() for v in (model.prior_logits, model.prior_means, model.prior_log_vars)
    ]
    history = model.fit(x, batch_size=32, epochs=3, verbose=0).history
    assert np.all(np.isfinite(history["kl"])) and history["kl"][-1] > 0
    for old, var in zip(
        before, (model.prior_logits, model.prior_means, model.prior_log_vars), strict=True
    ):
        assert not np.allclose(old, var.numpy())
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras", safe_mode=True)
    prior, again = model_prior(model), model_prior(loaded)
    assert prior.weights.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(again.means, prior.means)
    np.testing.assert_allclose(again.log_vars, prior.log_vars)


@pytest.mark.parametrize("shared", [False, True], ids=["own-source", "shared-source"])
def test_prior_sources_draw_from_the_learned_prior(rng, shared):
    model = _mog_model(latent=1)
    _set_prior(model, [0.25, 0.25, 0.5], [[-6.0], [0.0], [6.0]], [[0.01]] * 3)
    x = (rng.random((30, 20)) < 0.5).astype(np.int8)
    if shared:  # as experiments/generator_table.py does: one source fitted, then shared by decoders
        mean, log_var = encode(model, x)
        gen = make_generator("prior/calls")
        gen.source.fit(mean, log_var, seed=0)
        gen.fit_posteriors(model, x, mean, log_var, seed=0, fit_source=False)
    else:
        gen = make_generator("prior/calls").fit(model, x, seed=0)
    z = gen.sample(model, 4000, seed=1)["latent"][:, 0]
    np.testing.assert_allclose([np.mean(z < -3), np.mean(abs(z) < 3), np.mean(z > 3)],
                               [0.25, 0.25, 0.5], atol=0.03)  # fmt: skip
    z2 = sample_prior(model, 4000, seed=1)["latent"][:, 0]
    assert np.mean(z2 > 3) == pytest.approx(0.5, abs=0.03)


def test_iw_nll_under_a_learned_prior_converges_to_quadrature(rng):
    model = _mog_model(latent=1, seed=3)
    for layer in model.decoder.layers:
        layer.kernel.assign(layer.kernel.numpy() * 3.0)
    _set_prior(model, [0.3, 0.3, 0.4], [[-1.5], [0.0], [2.0]], [[0.3], [1.0], [0.5]])
    x = (rng.random((30, 20)) < 0.5).astype(np.int8)
    grid = np.linspace(-12.0, 12.0, 4001)
    logits = np.asarray(model.decode(grid[:, None].astype(np.float32)), np.float64)
    log_joint = bernoulli_log_likelihood(x[:, None, :], logits[None]) + model_prior(
        model
    ).log_density(grid[:, None])
    exact = -(logsumexp(log_joint, axis=1) + np.log(grid[1] - grid[0])).mean()
    nll = importance_weighted_nll(model, x, n_samples=3000, seed=1)["nll"]
    assert nll == pytest.approx(exact, abs=0.05)
    # Scored under N(0, I) instead, the number would be visibly different.
    gauss = -(
        logsumexp(
            bernoulli_log_likelihood(x[:, None, :], logits[None])
            + PriorMixture.standard_normal(1).log_density(grid[:, None]),
            axis=1,
        )
        + np.log(grid[1] - grid[0])
    ).mean()
    assert abs(gauss - exact) > 0.2


def test_train_with_a_learned_prior_end_to_end(tiny_config, tmp_path):
    from vae_genomics.cli import main

    args = ["train", "--config", str(tiny_config), "--section", "1_5100-12000", "--run-name", "mog",
            "--set", "objective.prior.kind=mog", "--set", "objective.prior.components=4"]  # fmt: skip
    assert main(args) == 0
    run = tmp_path / "runs" / "1_5100-12000" / "mog"
    metrics = json.loads((run / "metrics.json").read_text())
    evaluation = metrics["evaluation"]
    assert np.isfinite(evaluation["iw_nll"]["nll"])
    assert evaluation["iw_nll"]["nll"] <= evaluation["iw_nll"]["neg_elbo"] + 1e-6
    assert np.isfinite(evaluation["latent"]["kl"]) and len(evaluation["latent"]["kl_per_dim"]) == 3
    assert (run / "report" / "index.html").is_file()
    model = keras.models.load_model(run / "model.keras", safe_mode=True)
    assert model_prior(model).means.shape == (4, 3)


class _PlainVAE:
    """A model without a learned prior or ``prior_parameters``: encode/decode of a wrapped VAE."""

    def __init__(self, vae: HaplotypeVAE) -> None:
        self.vae, self.latent_dim = vae, vae.latent_dim

    def encode(self, x, training=False):
        return self.vae.encode(x, training=training)

    def decode(self, z, training=False):
        return self.vae.decode(z, training=training)


def test_a_model_without_prior_parameters_is_scored_under_the_standard_normal(rng):
    keras.utils.set_random_seed(2)
    vae = HaplotypeVAE(20, 2, [16], seed=2)
    plain = _PlainVAE(vae)
    assert model_prior(plain).is_standard_normal
    x = (rng.random((12, 20)) < 0.4).astype(np.int8)
    want = importance_weighted_nll(vae, x, n_samples=50, seed=3)["nll"]
    assert importance_weighted_nll(plain, x, n_samples=50, seed=3)["nll"] == pytest.approx(want)
