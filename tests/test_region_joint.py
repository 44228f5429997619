"""Joint latent models: Gaussian conditioning against closed forms, mixtures, chains."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from vae_genomics.generate.joint import (
    ConditionalMixture,
    RegionLatentModel,
    condition_gaussian,
    gaussian_logpdf,
)


def test_conditioning_a_2d_gaussian_matches_the_closed_form():
    mu = np.array([1.0, -2.0])
    sa, sb, rho = 2.0, 0.5, 0.8
    cov = np.array([[sa**2, rho * sa * sb], [rho * sa * sb, sb**2]])
    x_a = np.array([[3.0], [-1.0]])
    means, var = condition_gaussian(mu, cov, x_a, n_a=1)
    expected = mu[1] + rho * sb / sa * (x_a[:, 0] - mu[0])
    np.testing.assert_allclose(means[:, 0], expected)
    np.testing.assert_allclose(var[0, 0], sb**2 * (1 - rho**2))


def test_conditioning_in_higher_dimensions_matches_the_precision_form(rng):
    a = rng.normal(size=(5, 5))
    cov = a @ a.T + 5 * np.eye(5)
    mu = rng.normal(size=5)
    x_a = rng.normal(size=(3, 2))
    means, cond = condition_gaussian(mu, cov, x_a, n_a=2)
    prec = np.linalg.inv(
        cov
    )  # conditional cov = inv(P_bb), mean = mu_b - P_bb^-1 P_ba (x_a - mu_a)
    p_bb, p_ba = prec[2:, 2:], prec[2:, :2]
    np.testing.assert_allclose(cond, np.linalg.inv(p_bb), rtol=1e-10)
    expected = mu[2:] - (np.linalg.solve(p_bb, p_ba) @ (x_a - mu[:2]).T).T
    np.testing.assert_allclose(means, expected, rtol=1e-10)


def test_gaussian_logpdf_matches_scipy(rng):
    a = rng.normal(size=(3, 3))
    cov = a @ a.T + np.eye(3)
    x = rng.normal(size=(4, 3))
    np.testing.assert_allclose(
        gaussian_logpdf(x, np.zeros(3), cov), multivariate_normal(np.zeros(3), cov).logpdf(x)
    )


def test_conditional_mixture_picks_the_component_that_explains_a(rng):
    # two well-separated clusters: a = +-5 goes with b = +-5
    sign = rng.choice([-1.0, 1.0], size=2000)
    a = 5 * sign[:, None] + rng.normal(0, 0.3, (2000, 1))
    b = 5 * sign[:, None] + rng.normal(0, 0.3, (2000, 1))
    cm = ConditionalMixture(n_components=2).fit(a, b)
    weights = np.exp(cm.component_log_weights(np.array([[5.0], [-5.0]])))
    assert np.allclose(weights.max(axis=1), 1.0, atol=1e-6)
    b_new = cm.sample(np.array([[5.0]] * 500 + [[-5.0]] * 500), np.random.default_rng(0))
    assert b_new[:500].mean() == pytest.approx(5, abs=0.1)
    assert b_new[500:].mean() == pytest.approx(-5, abs=0.1)
    assert b_new[:500].std() == pytest.approx(0.3, rel=0.15)


def _correlated_codes(rng, n=3000, k=4, rho=0.9):
    """A Gaussian AR(1) chain of 2-D codes: z_k = rho z_{k-1} + sqrt(1 - rho^2) e."""
    z = [rng.normal(size=(n, 2))]
    for _ in range(k - 1):
        z.append(rho * z[-1] + np.sqrt(1 - rho**2) * rng.normal(size=(n, 2)))
    return z


@pytest.mark.parametrize("kind", ["chain", "joint"])
def test_joint_models_keep_the_correlation_between_neighbours(rng, kind):
    codes = _correlated_codes(rng)
    model = RegionLatentModel(kind, n_components=1).fit(codes)
    drawn = model.sample(4000, seed=1)
    assert [d.shape for d in drawn] == [(4000, 2)] * 4
    for k in range(1, 4):
        r = np.corrcoef(drawn[k - 1][:, 0], drawn[k][:, 0])[0, 1]
        assert r == pytest.approx(0.9, abs=0.03)
    r_far = np.corrcoef(drawn[0][:, 0], drawn[3][:, 0])[0, 1]
    assert r_far == pytest.approx(0.9**3, abs=0.05)


def test_independent_sampling_loses_the_correlation_and_is_seeded(rng):
    codes = _correlated_codes(rng)
    model = RegionLatentModel("independent", n_components=1).fit(codes)
    drawn = model.sample(4000, seed=1)
    assert abs(np.corrcoef(drawn[0][:, 0], drawn[1][:, 0])[0, 1]) < 0.05
    np.testing.assert_array_equal(model.sample(10, seed=3)[2], model.sample(10, seed=3)[2])
    with pytest.raises(ValueError, match="unknown joint model"):
        RegionLatentModel("wgan")
