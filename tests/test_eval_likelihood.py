"""Importance-weighted NLL against exact quadrature on a one-dimensional latent space."""

import keras
import numpy as np
import pytest
from scipy.special import logsumexp

from vae_genomics.evaluation.likelihood import (
    bernoulli_log_likelihood,
    importance_weighted_nll,
)
from vae_genomics.generate.prior import PriorMixture
from vae_genomics.models.inference import encode
from vae_genomics.models.vae import HaplotypeVAE

N_VARIANTS = 12


@pytest.fixture(scope="module")
def model_and_data():
    """A tiny VAE with L = 1 whose decoder depends strongly on z (kernels scaled up)."""
    keras.utils.set_random_seed(3)
    model = HaplotypeVAE(n_variants=N_VARIANTS, latent_dim=1, hidden_units=[16], seed=3)
    for layer in model.decoder.layers:
        layer.kernel.assign(layer.kernel.numpy() * 3.0)
    x = (np.random.default_rng(0).random((40, N_VARIANTS)) < 0.5).astype(np.int8)
    return model, x


def _normal(z):
    """log N(z; 0, I) summed over the last axis (the default prior)."""
    return PriorMixture.standard_normal(z.shape[-1]).log_density(z)


def _exact_nll(model, x):
    """-log p(x) = -log ∫ p(x|z) N(z) dz by the rectangle rule on a fine grid."""
    grid = np.linspace(-10.0, 10.0, 4001)
    logits = np.asarray(model.decode(grid[:, None].astype(np.float32)), np.float64)
    log_joint = bernoulli_log_likelihood(x[:, None, :], logits[None]) + _normal(grid[:, None])
    return -(logsumexp(log_joint, axis=1) + np.log(grid[1] - grid[0]))


def _exact_neg_elbo(model, x):
    """E_q[-log p(x|z)] by Gauss-Hermite quadrature plus the analytic KL."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(80)
    mean, log_var = (a.astype(np.float64) for a in encode(model, x))
    z = mean + np.exp(0.5 * log_var) * nodes[None, :]
    logits = np.asarray(model.decode(z.reshape(-1, 1).astype(np.float32)), np.float64)
    logits = logits.reshape(len(x), len(nodes), N_VARIANTS)
    rec = -(bernoulli_log_likelihood(x[:, None, :], logits) * weights).sum(1) / weights.sum()
    kl = 0.5 * (np.exp(log_var) + mean**2 - 1 - log_var).sum(1)
    return rec + kl


def test_log_likelihood_helpers_match_numpy(rng):
    x = (rng.random((3, 7)) < 0.5).astype(np.int8)
    logits = rng.normal(scale=4.0, size=(3, 7))
    p = 1 / (1 + np.exp(-logits))
    want = (x * np.log(p) + (1 - x) * np.log1p(-p)).sum(1)
    np.testing.assert_allclose(bernoulli_log_likelihood(x, logits), want, rtol=1e-10)
    z = rng.normal(size=(5, 2))
    want_z = np.log(np.exp(-(z**2) / 2) / np.sqrt(2 * np.pi)).sum(1)
    np.testing.assert_allclose(_normal(z), want_z, rtol=1e-12)


def test_iw_nll_converges_to_the_exact_nll(model_and_data):
    model, x = model_and_data
    exact = _exact_nll(model, x).mean()
    exact_elbo = _exact_neg_elbo(model, x).mean()
    assert exact_elbo - exact > 1.0  # a real gap to close
    errors = {
        k: importance_weighted_nll(model, x, n_samples=k, seed=1)["nll"] - exact
        for k in (1, 10, 2000)
    }
    assert errors[1] == pytest.approx(exact_elbo - exact, abs=0.5)  # K = 1 is the -ELBO
    assert errors[1] > errors[10] > abs(errors[2000])
    assert abs(errors[2000]) < 0.03


def test_iw_nll_never_exceeds_the_neg_elbo_of_its_draws(model_and_data):
    model, x = model_and_data
    one = importance_weighted_nll(model, x, n_samples=1, seed=4)
    assert one["nll"] == pytest.approx(one["neg_elbo"], rel=1e-12)
    many = importance_weighted_nll(model, x, n_samples=500, seed=4)
    assert many["nll"] <= many["neg_elbo"]
    assert many["per_haplotype"].shape == (len(x),)
    assert many["nll"] == pytest.approx(many["per_haplotype"].mean())
    # the mean of -log w over many draws is the -ELBO
    assert many["neg_elbo"] == pytest.approx(_exact_neg_elbo(model, x).mean(), abs=0.1)


def test_iw_nll_chunking_and_seed(model_and_data):
    model, x = model_and_data
    exact = _exact_nll(model, x).mean()
    split = importance_weighted_nll(model, x[:10], n_samples=300, seed=5, max_rows=64)  # K split
    assert split["nll"] == pytest.approx(_exact_nll(model, x[:10]).mean(), abs=0.05)
    again = importance_weighted_nll(model, x, n_samples=50, seed=5)
    np.testing.assert_array_equal(
        again["per_haplotype"],
        importance_weighted_nll(model, x, n_samples=50, seed=5)["per_haplotype"],
    )
    assert again["nll"] == pytest.approx(exact, abs=0.2)


def test_iw_nll_with_a_head_converges_to_the_heads_exact_nll(model_and_data):
    from vae_genomics.generate.context import ContextHead

    model, x = model_and_data
    # The plain decoder written as a head (a = 1, no context, no intercept) changes nothing.
    plain = ContextHead(order=2)
    plain.weights = np.tile([1.0, 0.0, 0.0, 0.0], (N_VARIANTS, 1))
    np.testing.assert_allclose(
        importance_weighted_nll(model, x, 50, seed=1, head=plain)["per_haplotype"],
        importance_weighted_nll(model, x, 50, seed=1)["per_haplotype"],
        rtol=1e-9,
    )
    # A head with context: -log ∫ p_head(x|z) N(z) dz by quadrature.
    head = ContextHead(order=2)
    head.weights = np.random.default_rng(4).normal(size=(N_VARIANTS, 4))
    grid = np.linspace(-10.0, 10.0, 2001)
    logits = np.asarray(model.decode(grid[:, None].astype(np.float32)), np.float64)
    log_px = np.stack([head.log_prob(logits, np.tile(row, (len(grid), 1))) for row in x])
    exact = -(logsumexp(log_px + _normal(grid[:, None]), axis=1)
              + np.log(grid[1] - grid[0]))  # fmt: skip
    iw = importance_weighted_nll(model, x, 2000, seed=2, head=head)["per_haplotype"]
    assert abs(iw.mean() - exact.mean()) < 0.03
    np.testing.assert_allclose(iw, exact, atol=0.15)


def test_graph_log_likelihood_matches_the_decoders_logits_in_numpy(model_and_data, rng):
    """The bound's log p(x|z) made beside the decoder (float32 terms and sums) against
    float64 numpy on the logits the decoder returns, plain and with an LD head, both from one
    decoding; and the two bounds of one call equal each bound computed alone."""
    from vae_genomics.evaluation.likelihood import decoded_log_likelihood, importance_weighted_nlls
    from vae_genomics.generate.context import ContextHead

    model, x = model_and_data
    z = rng.normal(size=(len(x) * 3, 1)).astype(np.float32)  # 3 consecutive draws per haplotype
    logits = np.asarray(model.decode(z), np.float64).reshape(len(x), 3, -1)
    head = ContextHead(order=2)
    head.weights = rng.normal(size=(N_VARIANTS, 4))
    got = decoded_log_likelihood(model, z, x, (None, head))
    assert got.shape == (2, len(x), 3) and got.dtype == np.float64
    np.testing.assert_allclose(got[0], bernoulli_log_likelihood(x[:, None, :], logits), rtol=1e-6)
    want_head = head.log_prob(logits.reshape(len(x) * 3, -1), x, repeats=3).reshape(len(x), 3)
    np.testing.assert_allclose(got[1], want_head, rtol=1e-6)
    slope, offset = head.offsets(x)  # the head's logit is a_j l_j + c_j(x)
    np.testing.assert_array_equal(slope, head.weights[:, 0])
    c1 = head.weights[1, -1] + head.weights[1, 1] * x[:, 0]  # site 1: intercept + lag 1
    np.testing.assert_allclose(offset[:, 1], c1, rtol=1e-12)
    plain, with_head = importance_weighted_nlls(model, x, (None, head), n_samples=7, seed=2)
    for bound, alone in ((plain, None), (with_head, head)):
        want = importance_weighted_nll(model, x, n_samples=7, seed=2, head=alone)
        np.testing.assert_array_equal(bound["per_haplotype"], want["per_haplotype"])
        assert bound["neg_elbo"] == pytest.approx(want["neg_elbo"], rel=1e-12)


def test_the_compiled_likelihood_does_not_keep_its_model_alive() -> None:
    """A job evaluates section after section: each model's compiled function goes with it.

    Run in a fresh interpreter: in a worker that ran other tests first, objects those tests left
    (Keras's or TensorFlow's) can hold a model, which says nothing about this cache."""
    import subprocess
    import sys

    script = """
import gc
import numpy as np
from vae_genomics.evaluation import likelihood
from vae_genomics.models.vae import HaplotypeVAE
x = (np.random.default_rng(0).random((10, 12)) < 0.5).astype(np.int8)
counts = []
for seed in range(3):
    model = HaplotypeVAE(n_variants=12, latent_dim=2, hidden_units=[8], seed=seed)
    likelihood.importance_weighted_nll(model, x, n_samples=3, seed=0)
    counts.append(len(likelihood._COMPILED))
    del model
    gc.collect()
    counts.append(len(likelihood._COMPILED))
print(counts)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[1, 0, 1, 0, 1, 0]"
