"""Generators: code sources (prior, mixtures, aggregate posterior) and decoders (draws, sharpened, calls)."""

import keras
import numpy as np
import pytest
from scipy.special import expit

from vae_genomics.generate.decoders import decode_codes, parse_decoder, sharpen
from vae_genomics.generate.generators import DEFAULT_GENERATOR, AggregateSource, make_generator
from vae_genomics.generate.samplers import AggregatePosteriorGMM, decode_probabilities
from vae_genomics.models.inference import encode
from vae_genomics.models.vae import HaplotypeVAE


@pytest.fixture(scope="module")
def model():
    keras.utils.set_random_seed(2)
    return HaplotypeVAE(n_variants=15, latent_dim=2, hidden_units=[8], seed=2)


def test_sharpen_closed_forms() -> None:
    p = np.array([0.1, 0.3, 0.5, 0.8, 0.99])
    np.testing.assert_allclose(sharpen(p, 1.0), p, rtol=1e-9)
    np.testing.assert_allclose(sharpen(p, 0.5), p**2 / (p**2 + (1 - p) ** 2), rtol=1e-9)
    assert sharpen(np.array([0.5]), 0.01)[0] == pytest.approx(0.5)
    np.testing.assert_allclose(sharpen(p, 1e-3), [0, 0, 0.5, 1, 1], atol=1e-6)
    with pytest.raises(ValueError, match="> 0"):
        sharpen(p, 0.0)


def test_decoders_draw_with_the_stated_probabilities() -> None:
    p = np.tile(np.array([0.1, 0.3, 0.7]), (40000, 1))
    rng = np.random.default_rng(0)
    np.testing.assert_allclose(decode_codes(p, "bernoulli", rng).mean(0), p[0], atol=0.01)
    sharp = decode_codes(p, "temperature:0.5", rng).mean(0)
    np.testing.assert_allclose(sharp, sharpen(p[0], 0.5), atol=0.01)
    np.testing.assert_array_equal(decode_codes(p, "calls", rng)[0], [0, 0, 1])


@pytest.mark.parametrize(
    "bad",
    ["temperature", "temperature:x", "temperature:-1", "hard", "calls:2", "ld:0", "ld:x", "ld:4:0"],
)
def test_bad_decoder_names_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="decoder"):
        parse_decoder(bad)


@pytest.mark.parametrize("bad", ["nope/calls", "aggregate:0", "aggregate:x", "prior:2"])
def test_bad_source_names_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="code source"):
        make_generator(bad)


def test_default_generator_is_a_valid_name() -> None:
    gen = make_generator(DEFAULT_GENERATOR)
    assert gen.name == DEFAULT_GENERATOR


def test_aggregate_source_draws_from_the_mixture_of_posteriors() -> None:
    mean = np.array([[-3.0, 0.0], [3.0, 0.0]])
    log_var = np.log(np.array([[0.25, 0.25], [0.25, 0.25]]))
    rng = np.random.default_rng(1)
    z = AggregateSource(inflate=2.0).fit(mean, log_var).codes(40000, rng)
    # equal-weight mixture: mean 0, variance of the means (9) + inflate² · posterior variance (1)
    np.testing.assert_allclose(z.mean(0), [0.0, 0.0], atol=0.05)
    np.testing.assert_allclose(z.var(0), [9.0 + 1.0, 1.0], rtol=0.03)
    left = z[z[:, 0] < 0]
    np.testing.assert_allclose(left[:, 1].std(), 1.0, rtol=0.03)


def test_heldout_likelihood_picks_the_number_of_separated_clusters(rng) -> None:
    points = np.concatenate([rng.normal(c, 0.5, size=(300, 2)) for c in ((0, 0), (8, 0), (0, 8))])
    gmm = AggregatePosteriorGMM(source="means", max_components=6, criterion="heldout").fit(points)
    assert gmm.n_components_ == 3
    assert max(gmm.heldout_loglik_, key=gmm.heldout_loglik_.get) == 3
    assert gmm.heldout_loglik_[3] > gmm.heldout_loglik_[1] + 1.0


@pytest.mark.parametrize(
    "spec",
    [
        "prior",
        "gmm/calls",
        "gmm-heldout/temperature:0.5",
        "aggregate:1.5/bernoulli",
        "aggregate/ld:3",
    ],
)
def test_generators_sample_from_a_model(model, rng, spec: str) -> None:
    x = (rng.random((60, 15)) < 0.4).astype(np.int8)
    gen = make_generator(spec, max_components=3).fit(model, x, seed=0)
    out = gen.sample(model, 50, seed=4)
    assert out["samples"].shape == out["probabilities"].shape == (50, 15)
    assert out["latent"].shape == (50, 2)
    assert set(np.unique(out["samples"])) <= {0, 1}
    np.testing.assert_allclose(
        out["probabilities"], decode_probabilities(model, out["latent"]), rtol=1e-5
    )
    np.testing.assert_array_equal(out["samples"], gen.sample(model, 50, seed=4)["samples"])
    if spec.endswith("calls"):
        np.testing.assert_array_equal(out["samples"], out["probabilities"] >= 0.5)


def test_aggregate_codes_with_tiny_spread_decode_near_training_reconstructions(model, rng) -> None:
    x = (rng.random((20, 15)) < 0.4).astype(np.int8)
    gen = make_generator("aggregate:0.001/calls").fit(model, x)
    out = gen.sample(model, 200, seed=0)
    mean, _ = encode(model, x)
    recon = expit(np.asarray(model.decode(mean))) >= 0.5
    keys = {row.tobytes() for row in recon.astype(np.int8)}
    assert all(row.tobytes() in keys for row in out["samples"])


@pytest.mark.parametrize(
    ("spec", "part", "given", "allowed"),
    [
        ("aggregate:inf/calls", "S of aggregate:S", "'inf'", "(0, 10]"),
        ("aggregate:nan", "S of aggregate:S", "'nan'", "(0, 10]"),
        ("aggregate:1e309", "S of aggregate:S", "'1e309'", "(0, 10]"),
        ("aggregate:-2", "S of aggregate:S", "'-2'", "(0, 10]"),
        ("aggregate:11", "S of aggregate:S", "'11'", "(0, 10]"),
        ("prior/temperature:inf", "T of temperature:T", "'inf'", "(0, 10]"),
        ("prior/temperature:-0.5", "T of temperature:T", "'-0.5'", "(0, 10]"),
        ("prior/temperature:nan", "T of temperature:T", "'nan'", "(0, 10]"),
        ("gmm/ld:8:inf", "T of ld:K:T", "'inf'", "(0, 10]"),
        ("gmm/ld:8:-1", "T of ld:K:T", "'-1'", "(0, 10]"),
        ("gmm/calls/guard:inf", "F of guard:F", "'inf'", "(0, 100]"),
        ("gmm/calls/guard:1e6", "F of guard:F", "'1e6'", "(0, 100]"),
    ],
)
def test_non_finite_or_out_of_range_parameters_are_refused(spec, part, given, allowed) -> None:
    with pytest.raises(ValueError) as caught:
        make_generator(spec)
    message = str(caught.value)
    assert message.startswith(f"generator {spec!r}: ")
    assert f"{part}: {given} is not allowed; it must be a finite number in {allowed}" in message
    assert "(e.g. " in message  # a valid name to use instead


def test_parameters_at_the_ends_of_their_ranges_are_accepted() -> None:
    assert make_generator("aggregate:10/temperature:10").source.inflate == 10.0
    assert make_generator("aggregate:0.01/ld:4:10/guard:100").guard == 100.0
    assert make_generator("aggregate/calls").source.inflate == 1.0


@pytest.mark.parametrize("spec", ["aggregate:1.5/ld:3:0.7", "aggregate/bernoulli", "gmm/calls"])
def test_blocks_of_haplotypes_are_the_same_draws_as_all_at_once(model, rng, spec: str) -> None:
    # sample RUN draws a block at a time into bits: the same seed must give the same haplotypes
    x = (rng.random((60, 15)) < 0.4).astype(np.int8)
    gen = make_generator(spec, max_components=3).fit(model, x, seed=0)
    whole = gen.sample(model, 2500, seed=4)["samples"]
    blocks = list(gen.iter_samples(model, 2500, seed=4, block=1024))
    assert [len(b) for b in blocks] == [1024, 1024, 452]
    np.testing.assert_array_equal(np.concatenate(blocks), whole)
    with pytest.raises(ValueError, match="multiple of 1024"):
        next(gen.iter_samples(model, 10, block=1000))
    guarded = make_generator(f"{spec}/guard", max_components=3).fit(model, x, seed=0)
    with pytest.raises(ValueError, match="copy guard"):
        next(guarded.iter_samples(model, 10))
