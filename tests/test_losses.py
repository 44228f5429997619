"""Loss math against numpy references and closed forms."""

import numpy as np
import pytest

from vae_genomics.models.losses import LOG_VAR_LIMIT, bernoulli_nll, bound_log_var, gaussian_kl


def _numpy_bernoulli_nll(x, logits):
    p = 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))
    return -(x * np.log(p) + (1 - x) * np.log1p(-p)).sum(axis=1)


def test_bernoulli_nll_matches_numpy_and_is_a_sum_over_variants(rng):
    x = (rng.random((5, 40)) < 0.4).astype(np.int8)
    logits = rng.normal(scale=3.0, size=(5, 40)).astype(np.float32)
    got = np.asarray(bernoulli_nll(x, logits))
    assert got.shape == (5,)
    np.testing.assert_allclose(got, _numpy_bernoulli_nll(x, logits), rtol=1e-5)
    # doubling the variants (same values repeated) doubles the NLL: a sum, not a mean
    doubled = np.asarray(bernoulli_nll(np.tile(x, 2), np.tile(logits, 2)))
    np.testing.assert_allclose(doubled, 2 * got, rtol=1e-5)


def test_bernoulli_nll_is_stable_for_extreme_logits():
    x = np.array([[1, 0, 1, 0]], dtype=np.int8)
    logits = np.array([[80.0, -80.0, -80.0, 80.0]], dtype=np.float32)
    got = float(np.asarray(bernoulli_nll(x, logits))[0])
    # the two wrong calls each cost exactly |logit| nats; the two right ones cost ~exp(-80)
    assert got == pytest.approx(160.0, rel=1e-6)
    assert np.isfinite(got)


def test_bernoulli_nll_at_zero_logits_is_n_log2():
    x = np.zeros((2, 10), dtype=np.int8)
    np.testing.assert_allclose(
        np.asarray(bernoulli_nll(x, np.zeros((2, 10), np.float32))), 10 * np.log(2)
    )


def test_gaussian_kl_matches_general_gaussian_kl_formula(rng):
    mean = rng.normal(size=(4, 6)).astype(np.float32)
    log_var = rng.normal(size=(4, 6)).astype(np.float32)
    got = np.asarray(gaussian_kl(mean, log_var))
    # KL(N(m1, s1^2) || N(m2, s2^2)) = log(s2/s1) + (s1^2 + (m1-m2)^2) / (2 s2^2) - 1/2, with m2=0, s2=1
    s1 = np.exp(0.5 * log_var.astype(np.float64))
    reference = -np.log(s1) + (s1**2 + mean.astype(np.float64) ** 2) / 2 - 0.5
    np.testing.assert_allclose(got, reference, rtol=1e-5, atol=1e-6)
    assert (got >= 0).all()


def test_gaussian_kl_is_zero_only_at_the_prior():
    zeros = np.zeros((1, 3), np.float32)
    np.testing.assert_allclose(np.asarray(gaussian_kl(zeros, zeros)), 0.0, atol=1e-7)
    assert float(np.asarray(gaussian_kl(zeros + 0.1, zeros)).sum()) > 0


def test_gaussian_kl_monte_carlo_agrees(rng):
    mean, log_var = np.array([[0.7]]), np.array([[-0.5]])
    sd = np.exp(0.5 * log_var)
    z = mean + sd * rng.normal(size=(400_000, 1))
    log_q = -0.5 * np.log(2 * np.pi) - np.log(sd) - 0.5 * ((z - mean) / sd) ** 2
    log_p = -0.5 * np.log(2 * np.pi) - 0.5 * z**2
    estimate = float((log_q - log_p).mean())
    exact = float(
        np.asarray(gaussian_kl(mean.astype(np.float32), log_var.astype(np.float32)))[0, 0]
    )
    assert estimate == pytest.approx(exact, abs=5e-3)


def test_bound_log_var_is_bounded_and_near_identity_at_zero():
    raw = np.array([-1e6, -50.0, -1.0, 0.0, 1.0, 50.0, 1e6], dtype=np.float32)
    bounded = np.asarray(bound_log_var(raw))
    assert (np.abs(bounded) <= LOG_VAR_LIMIT).all()
    np.testing.assert_allclose(bounded[2:5], raw[2:5], atol=5e-3)
    assert np.isfinite(np.exp(bounded)).all()
