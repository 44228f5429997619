"""The LD-aware decoder head: per-site logistic regression on the decoder logit and preceding sites."""

import numpy as np
import pytest
from scipy.special import expit, log_expit, logit
from sklearn.linear_model import LogisticRegression

from vae_genomics.generate.context import ContextHead, context_features
from vae_genomics.generate.decoders import context_order, decode_codes, parse_decoder
from vae_genomics.generate.generators import make_generator


def markov_haplotypes(n: int, m: int, stay: float, rng) -> np.ndarray:
    """0/1 chains along the sites: each site repeats the one before with probability ``stay``."""
    x = np.empty((n, m), dtype=np.int8)
    x[:, 0] = rng.random(n) < 0.5
    for j in range(1, m):
        keep = rng.random(n) < stay
        x[:, j] = np.where(keep, x[:, j - 1], 1 - x[:, j - 1])
    return x


def test_features_hold_the_logit_the_preceding_sites_and_an_intercept(rng) -> None:
    x = (rng.random((5, 7)) < 0.5).astype(np.int8)
    logits = rng.normal(size=(5, 7))
    f = context_features(logits, x, order=3, start=2, stop=6)
    assert f.shape == (4, 5, 5)
    for c, j in enumerate(range(2, 6)):
        np.testing.assert_array_equal(f[c, :, 0], logits[:, j])
        for i in range(1, 4):
            expected = x[:, j - i] if j - i >= 0 else np.zeros(5)
            np.testing.assert_array_equal(f[c, :, i], expected)
        np.testing.assert_array_equal(f[c, :, 4], 1.0)


def test_fit_recovers_a_markov_chains_transition_log_odds(rng) -> None:
    x = markov_haplotypes(20000, 6, stay=0.9, rng=rng)
    head = ContextHead(order=1, penalty=1.0).fit(np.zeros(x.shape), x)
    # P(x_j = 1 | x_{j-1}) = 0.1 or 0.9: intercept logit(0.1), weight logit(0.9) - logit(0.1).
    np.testing.assert_allclose(head.weights[1:, -1], logit(0.1), atol=0.1)
    np.testing.assert_allclose(head.weights[1:, 1], logit(0.9) - logit(0.1), atol=0.15)
    assert head.weights[0, 1] == pytest.approx(0.0, abs=1e-6)  # the first site has no context
    np.testing.assert_allclose(head.weights[:, 0], 1.0)  # zero logits: a_j stays at its prior


def test_fit_matches_scikit_learns_penalised_logistic_regression(rng) -> None:
    x = (rng.random((400, 5)) < 0.4).astype(np.int8)
    x[:, 4] = np.where(rng.random(400) < 0.8, x[:, 3], x[:, 1])
    head = ContextHead(order=3, penalty=2.0).fit(np.zeros(x.shape), x)
    ref = LogisticRegression(C=1 / 2.0, tol=1e-10, max_iter=1000)
    ref.fit(x[:, [3, 2, 1]], x[:, 4])
    # The intercept's tiny penalty (1e-3 of the others') is the only difference.
    np.testing.assert_allclose(head.weights[4, 1:4], ref.coef_[0], atol=2e-3)
    assert head.weights[4, -1] == pytest.approx(ref.intercept_[0], abs=2e-3)


def test_decoder_logit_carries_what_it_predicts(rng) -> None:
    # x_j is a Bernoulli draw from sigmoid(2 l_j): the head learns a_j = 2 and ignores context.
    logits = rng.normal(size=(20000, 4))
    x = (rng.random(logits.shape) < expit(2 * logits)).astype(np.int8)
    head = ContextHead(order=2).fit(logits, x)
    np.testing.assert_allclose(head.weights[:, 0], 2.0, atol=0.1)
    np.testing.assert_allclose(head.weights[:, 1:3], 0.0, atol=0.1)


@pytest.mark.parametrize("block", [1024, 4, 1])  # the lags reach across blocks of sites
def test_log_prob_is_the_teacher_forced_bernoulli_likelihood(rng, monkeypatch, block) -> None:
    import vae_genomics.generate.context as context

    monkeypatch.setattr(context, "LOG_PROB_SITES", block)
    x = markov_haplotypes(50, 6, stay=0.8, rng=rng)
    logits = rng.normal(size=x.shape)
    head = ContextHead(order=2, chunk=4).fit(logits, x)
    w = head.weights
    expected = np.zeros(len(x))
    for n in range(len(x)):
        for j in range(6):
            eta = w[j, 0] * logits[n, j] + w[j, -1]
            eta += sum(w[j, i] * x[n, j - i] for i in (1, 2) if j - i >= 0)
            expected[n] += log_expit(eta) if x[n, j] else log_expit(-eta)
    np.testing.assert_allclose(head.log_prob(logits, x), expected, rtol=1e-10)


@pytest.mark.parametrize("block", [1024, 3])
def test_log_prob_shares_each_haplotypes_context_across_its_repeated_draws(
    rng, monkeypatch, block
) -> None:
    # an importance-weighted bound's draws: 5 rows of logits per haplotype, the same as the
    # haplotype repeated 5 times
    import vae_genomics.generate.context as context

    monkeypatch.setattr(context, "LOG_PROB_SITES", block)
    x = markov_haplotypes(30, 7, stay=0.8, rng=rng)
    head = ContextHead(order=3, chunk=4).fit(rng.normal(size=x.shape), x)
    logits = rng.normal(size=(30 * 5, 7))
    want = head.log_prob(logits, np.repeat(x, 5, axis=0))
    np.testing.assert_allclose(head.log_prob(logits, x, repeats=5), want, rtol=1e-12)
    with pytest.raises(ValueError, match="150 rows of logits for 30 haplotypes × 4 repeats"):
        head.log_prob(logits, x, repeats=4)


def test_sampling_reproduces_the_fitted_chain_and_temperature_sharpens(rng) -> None:
    x = markov_haplotypes(20000, 8, stay=0.85, rng=rng)
    head = ContextHead(order=1).fit(np.zeros(x.shape), x)
    draws = head.sample(np.zeros((20000, 8)), np.random.default_rng(1))
    assert draws.dtype == np.int8 and draws.shape == (20000, 8)
    assert (draws[:, 1:] == draws[:, :-1]).mean() == pytest.approx(0.85, abs=0.01)
    cold = head.sample(np.zeros((20000, 8)), np.random.default_rng(1), temperature=0.5)
    assert (cold[:, 1:] == cold[:, :-1]).mean() == pytest.approx(
        0.85**2 / (0.85**2 + 0.15**2), abs=0.01
    )
    np.testing.assert_array_equal(
        draws, head.sample(np.zeros((20000, 8)), np.random.default_rng(1))
    )


def test_sites_rarer_than_one_percent_are_not_sharpened(rng) -> None:
    # site 0 carries its minor allele in 0.5% of training haplotypes (drawn at T = 1 whatever
    # T), site 1 in 30% (sharpened); sites 0 and 1 independent, no decoder signal
    n = 20000
    x = np.zeros((n, 2), dtype=np.int8)
    x[rng.choice(n, n // 200, replace=False), 0] = 1
    x[:, 1] = rng.random(n) < 0.3
    head = ContextHead(order=1).fit(np.zeros(x.shape), x)
    np.testing.assert_allclose(head.site_maf, x.mean(axis=0))
    plain = head.sample(np.zeros((n, 2)), np.random.default_rng(3))
    cold = head.sample(np.zeros((n, 2)), np.random.default_rng(3), temperature=0.5)
    # the same uniforms: the rare site's alleles are those of T = 1, its frequency kept
    np.testing.assert_array_equal(cold[:, 0], plain[:, 0])
    assert cold[:, 0].mean() == pytest.approx(0.005, abs=0.002)
    # the common site sharpened: its training frequency p at T = 0.5 is p^2 / (p^2 + (1 - p)^2)
    p = x[:, 1].mean()
    assert plain[:, 1].mean() == pytest.approx(p, abs=0.01)
    assert cold[:, 1].mean() == pytest.approx(p**2 / (p**2 + (1 - p) ** 2), abs=0.01)
    # a head given its weights by hand sharpens every site
    hand = ContextHead(order=1)
    hand.weights = head.weights
    assert hand.sample(np.zeros((n, 2)), np.random.default_rng(3), 0.5)[:, 0].mean() < 0.002


def test_fit_stays_finite_where_the_decoder_saturates(rng) -> None:
    # Huge logits make p(1 - p) vanish: undamped Newton steps diverge here.
    logits = rng.choice([-60.0, 60.0], size=(300, 5))
    x = (rng.random((300, 5)) < 0.5).astype(np.int8)
    x[:, 2] = 0  # a monomorphic site
    head = ContextHead(order=2).fit(logits, x)
    assert np.all(np.isfinite(head.weights)) and np.abs(head.weights).max() < 50
    assert np.all(np.isfinite(head.log_prob(logits, x)))
    plain = ContextHead(order=2)
    plain.weights = np.tile([1.0, 0.0, 0.0, 0.0], (5, 1))
    assert head.log_prob(logits, x).sum() > plain.log_prob(logits, x).sum()


def test_head_refuses_use_before_fit_and_other_widths(rng) -> None:
    with pytest.raises(RuntimeError, match="fit"):
        ContextHead().sample(np.zeros((2, 3)), rng)
    head = ContextHead(order=1).fit(np.zeros((10, 3)), (rng.random((10, 3)) < 0.5).astype(np.int8))
    with pytest.raises(ValueError, match="same shape"):
        ContextHead(order=1).fit(np.zeros((10, 4)), np.zeros((10, 3), dtype=np.int8))
    with pytest.raises(ValueError, match="3 sites"):
        head.log_prob(np.zeros((10, 4)), np.zeros((10, 4)))


def test_ld_decoder_names() -> None:
    assert parse_decoder("ld") == ("ld", 1.0) and context_order("ld") == 8
    assert parse_decoder("ld:16:0.7") == ("ld", 0.7) and context_order("ld:16:0.7") == 16
    assert context_order("temperature:0.5") == 0
    assert make_generator("aggregate:1.5/ld:4").name == "aggregate:1.5/ld:4"
    with pytest.raises(ValueError, match="fitted head"):
        decode_codes(np.full((2, 3), 0.5), "ld", np.random.default_rng(0))


class _Uniforms:
    """Stands for a generator: ``random((n, m))`` hands out the next m columns of fixed draws."""

    def __init__(self, u: np.ndarray) -> None:
        self.u, self.used = u, 0

    def random(self, shape: tuple[int, int]) -> np.ndarray:
        out = self.u[:, self.used : self.used + shape[1]]
        self.used += shape[1]
        return out


def test_sampling_in_blocks_with_the_context_carried_equals_sampling_at_once(rng) -> None:
    """A region drawn section by section: each block starts from the K alleles before it, and
    its sites keep their own temperature (sites 3 and 8 are rare: drawn at T = 1)."""
    x = (rng.random((300, 12)) < 0.4).astype(np.int8)
    x[:, [3, 8]] = 0
    x[:2, [3, 8]] = 1
    logits = rng.normal(size=x.shape)
    head = ContextHead(order=3).fit(logits, x)
    np.testing.assert_array_equal(np.flatnonzero(head.site_maf < 0.01), [3, 8])
    u = rng.random(x.shape)
    whole = head.sample(logits, _Uniforms(u), 0.5)
    draws, parts, done = _Uniforms(u), [], 0
    for width in (2, 5, 1, 4):  # blocks narrower and wider than the order
        context = np.concatenate(parts, axis=1) if parts else None
        parts.append(head.sample(logits[:, done : done + width], draws, 0.5, done, context))
        done += width
    np.testing.assert_array_equal(np.concatenate(parts, axis=1), whole)
    with pytest.raises(ValueError, match="the 2 sites before it"):
        head.sample(logits[:, 2:4], draws, 1.0, 2, None)
    with pytest.raises(ValueError, match="a block of 4 at site 10"):
        head.sample(logits[:, :4], draws, 1.0, 10, x[:, :3])
