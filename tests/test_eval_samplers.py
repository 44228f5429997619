"""Samplers: reconstructions, prior samples and the aggregate-posterior Gaussian mixture."""

import keras
import numpy as np
import pytest

from vae_genomics.generate.samplers import (
    AggregatePosteriorGMM,
    bernoulli_draws,
    decode_probabilities,
    posterior_reconstructions,
    sample_gmm,
    sample_prior,
)
from vae_genomics.models.inference import encode, reconstruct
from vae_genomics.models.vae import HaplotypeVAE


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(2)
    return HaplotypeVAE(n_variants=15, latent_dim=2, hidden_units=[8], seed=2)


def _clusters(rng, n_per=300, centres=((0, 0), (8, 0), (0, 8))):
    return np.concatenate([rng.normal(c, 0.5, size=(n_per, 2)) for c in centres])


def test_posterior_reconstructions(model, rng):
    x = (rng.random((50, 15)) < 0.5).astype(np.int8)
    out = posterior_reconstructions(model, x, seed=1, batch_size=16)
    np.testing.assert_allclose(out["probabilities"], reconstruct(model, x), rtol=1e-6)
    np.testing.assert_allclose(out["latent"], encode(model, x)[0], rtol=1e-6)
    np.testing.assert_array_equal(out["threshold"], out["probabilities"] >= 0.5)
    assert set(np.unique(out["samples"])) <= {0.0, 1.0}
    again = posterior_reconstructions(model, x, seed=1)
    np.testing.assert_array_equal(out["samples"], again["samples"])


def test_bernoulli_draws_have_the_given_means(rng):
    p = rng.random(20)
    draws = bernoulli_draws(np.tile(p, (20000, 1)), seed=3)
    np.testing.assert_allclose(draws.mean(0), p, atol=0.015)


def test_prior_samples_decode_standard_normal_codes(model):
    out = sample_prior(model, 4000, seed=7)
    assert out["probabilities"].shape == out["samples"].shape == (4000, 15)
    np.testing.assert_allclose(out["latent"].mean(0), 0.0, atol=0.05)
    np.testing.assert_allclose(np.cov(out["latent"].T), np.eye(2), atol=0.06)
    np.testing.assert_allclose(
        out["probabilities"], decode_probabilities(model, out["latent"]), rtol=1e-6
    )
    np.testing.assert_array_equal(out["samples"], sample_prior(model, 4000, seed=7)["samples"])
    assert not np.array_equal(out["latent"], sample_prior(model, 4000, seed=8)["latent"])


def test_bic_picks_the_number_of_separated_clusters(rng):
    gmm = AggregatePosteriorGMM(source="means", max_components=6).fit(_clusters(rng))
    assert gmm.n_components_ == 3
    assert set(gmm.bic_) == set(range(1, 7)) and min(gmm.bic_, key=gmm.bic_.get) == 3
    np.testing.assert_allclose(np.sort(gmm.weights_), [1 / 3] * 3, atol=0.01)


def test_fit_on_posterior_samples_widens_by_the_posterior_variance(rng):
    # one cluster of means with sd 0.5 and posterior sd 1: q(z) has variance 0.25 + 1 per dimension
    mean = rng.normal(0, 0.5, size=(5000, 2))
    log_var = np.zeros_like(mean)
    gmm = AggregatePosteriorGMM(n_components=1, draws_per_haplotype=2).fit(mean, log_var)
    assert gmm.n_fit_points_ == 10000 and not hasattr(gmm, "bic_")
    np.testing.assert_allclose(gmm.covariances_[0], 1.25 * np.eye(2), atol=0.07)
    with pytest.raises(ValueError, match="log_var"):
        AggregatePosteriorGMM().fit(mean)


def test_gmm_samples_are_reproducible_and_follow_the_mixture(rng):
    gmm = AggregatePosteriorGMM(n_components=3, source="means").fit(_clusters(rng))
    z = gmm.sample(30000, seed=11)
    np.testing.assert_array_equal(z, gmm.sample(30000, seed=11))
    assert not np.array_equal(z, gmm.sample(30000, seed=12))
    # moments of the draws = moments of the fitted mixture (closed form)
    mix_mean = gmm.weights_ @ gmm.means_
    centred = gmm.means_ - mix_mean
    mix_cov = np.einsum("c,cij->ij", gmm.weights_, gmm.covariances_) + np.einsum(
        "c,ci,cj->ij", gmm.weights_, centred, centred
    )
    np.testing.assert_allclose(z.mean(0), mix_mean, atol=0.06)
    np.testing.assert_allclose(np.cov(z.T), mix_cov, rtol=0.03, atol=0.05)
    np.testing.assert_allclose(gmm.score_samples(z[:5]), gmm.gmm_.score_samples(z[:5]))


def test_diag_covariances_are_returned_as_matrices(rng):
    gmm = AggregatePosteriorGMM(n_components=2, source="means", covariance_type="diag")
    gmm.fit(_clusters(rng, centres=((0, 0), (9, 9))))
    assert gmm.covariances_.shape == (2, 2, 2)
    assert gmm.sample(10, seed=0).shape == (10, 2)


def test_sample_gmm_decodes_mixture_draws(model, rng):
    gmm = AggregatePosteriorGMM(n_components=2, source="means").fit(rng.normal(size=(200, 2)))
    out = sample_gmm(model, gmm, 100, seed=4)
    np.testing.assert_allclose(
        out["probabilities"], decode_probabilities(model, out["latent"]), rtol=1e-6
    )
    np.testing.assert_array_equal(out["samples"], sample_gmm(model, gmm, 100, seed=4)["samples"])
