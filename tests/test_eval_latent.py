"""Latent diagnostics against closed forms: activity, per-dimension KL, mutual information, re-encoding."""

import keras
import numpy as np
import pytest

from vae_genomics.evaluation.latent import latent_statistics, mutual_information, reencoding_error
from vae_genomics.models.inference import encode, reconstruct
from vae_genomics.models.vae import HaplotypeVAE


def test_activity_and_active_units_from_known_variances():
    variances = np.array([0.0, 0.005, 0.02, 1.0])
    signs = np.where(np.arange(100) % 2 == 0, 1.0, -1.0)[:, None]
    mean = signs * np.sqrt(variances)  # ±sqrt(v): population variance exactly v
    stats = latent_statistics(mean, np.zeros_like(mean))
    np.testing.assert_allclose(stats["activity"], variances, atol=1e-15)
    assert stats["active"] == [False, False, True, True]
    assert stats["active_units"] == 2
    assert latent_statistics(mean, np.zeros_like(mean), threshold=0.001)["active_units"] == 3


def test_per_dimension_kl_closed_form():
    mean = np.array([[0.0, 1.0], [0.0, -1.0]])
    log_var = np.array([[0.0, np.log(0.25)], [0.0, np.log(0.25)]])
    stats = latent_statistics(mean, log_var)
    # KL(N(±1, 0.25) || N(0, 1)) = 0.5 (0.25 + 1 - 1 - log 0.25)
    want = [0.0, 0.5 * (0.25 - np.log(0.25))]
    np.testing.assert_allclose(stats["kl_per_dim"], want, atol=1e-12)
    assert stats["kl"] == pytest.approx(sum(want))


def test_mutual_information_is_zero_when_every_posterior_is_the_prior():
    mean, log_var = np.zeros((500, 3)), np.zeros((500, 3))
    got = mutual_information(mean, log_var, batch_size=128)
    assert got["mi"] == pytest.approx(0.0, abs=1e-12)
    assert got["aggregate_kl"] == pytest.approx(0.0, abs=1e-12)


def test_mutual_information_is_bounded_by_log_batch_size(rng):
    # far-apart, very narrow posteriors: the code identifies the haplotype, I_q -> log(batch)
    n, batch = 1000, 256
    mean = rng.normal(scale=100.0, size=(n, 4))
    log_var = np.full((n, 4), -10.0)
    got = mutual_information(mean, log_var, batch_size=batch, seed=3, chunk_size=100)
    sizes = [333, 333, 334]  # n // batch = 3 near-equal batches
    assert got["n_batches"] == 3
    assert got["upper_bound"] == pytest.approx(sum(s * np.log(s) for s in sizes) / n)
    assert got["mi"] <= got["upper_bound"] + 1e-9
    assert got["mi"] == pytest.approx(got["upper_bound"], abs=1e-3)
    # a single batch of everything: the bound is log n
    whole = mutual_information(mean, log_var, batch_size=n)
    assert whole["mi"] <= np.log(n) + 1e-9 and whole["upper_bound"] == pytest.approx(np.log(n))


def test_mutual_information_matches_gaussian_channel(rng):
    # x ~ N(0, I_2), q(z|x) = N(x, v I): I(x; z) = L/2 log(1 + 1/v) and q(z) = N(0, (1 + v) I)
    n, dims, v = 3000, 2, 0.25
    mean = rng.normal(size=(n, dims))
    got = mutual_information(mean, np.full((n, dims), np.log(v)), batch_size=n, seed=1)
    assert got["mi"] == pytest.approx(dims / 2 * np.log(1 + 1 / v), abs=0.06)
    assert got["aggregate_kl"] == pytest.approx(dims / 2 * (v - np.log(1 + v)), abs=0.06)


@pytest.fixture(scope="module")
def tiny_model():
    keras.utils.set_random_seed(5)
    return HaplotypeVAE(n_variants=20, latent_dim=3, hidden_units=[16], seed=5)


def test_reencoding_error_matches_direct_computation(tiny_model):
    x = (np.random.default_rng(0).random((64, 20)) < 0.5).astype(np.int8)
    got = reencoding_error(tiny_model, x, batch_size=10)
    mu, _ = encode(tiny_model, x)
    mu_hat, _ = encode(tiny_model, reconstruct(tiny_model, x))
    want = ((mu.astype(np.float64) - mu_hat) ** 2).mean(axis=1)
    np.testing.assert_allclose(got["per_haplotype"], want, rtol=1e-5, atol=1e-10)
    assert got["mean"] == pytest.approx(want.mean(), rel=1e-5)
    assert len(got["per_dim"]) == 3


def test_reencoding_error_of_a_constant_encoder(tiny_model):
    # An encoder that ignores its input: mu(x) = mu(x_hat), so the error at the mean is 0, and from
    # a posterior draw it is E||sigma eps||² / L = mean posterior variance.
    model = HaplotypeVAE(n_variants=20, latent_dim=3, hidden_units=[16], seed=5)
    model.set_weights(tiny_model.get_weights())
    first = model.encoder.layers[0]
    first.kernel.assign(np.zeros(first.kernel.shape, dtype="float32"))
    x = (np.random.default_rng(1).random((4000, 20)) < 0.5).astype(np.int8)
    assert reencoding_error(model, x)["mean"] == pytest.approx(0.0, abs=1e-10)
    _, log_var = encode(model, x[:1])
    sampled = reencoding_error(model, x, from_sample=True, seed=2)
    np.testing.assert_allclose(sampled["per_dim"], np.exp(log_var[0]), rtol=0.08)
