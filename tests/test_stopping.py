"""Early stopping on the generator's held-out likelihood (``training.stop_on``)."""

from __future__ import annotations

import numpy as np
import pytest

from vae_genomics.common.errors import ConfigError
from vae_genomics.config import load_config
from vae_genomics.evaluation.likelihood import importance_weighted_nlls
from vae_genomics.generate.context import ContextHead
from vae_genomics.generate.samplers import decode_logits
from vae_genomics.models.inference import encode
from vae_genomics.train import stopping
from vae_genomics.train.fit import fit_vae
from vae_genomics.train.stopping import MONITOR, GeneratorCheck, generator_nll


@pytest.fixture(scope="module")
def cohort() -> tuple[np.ndarray, np.ndarray]:
    """Two clusters of haplotypes with local LD: (training, held-out)."""
    rng = np.random.default_rng(3)
    centres = rng.random((2, 30)) < 0.5
    rows = centres[rng.integers(0, 2, 120)]
    x = (rows ^ (rng.random(rows.shape) < 0.05)).astype(np.int8)
    return x[:96], x[96:]


def _config(tiny_config, **training):
    return load_config(tiny_config, overrides={"training": training})


def test_the_check_is_the_bound_under_a_head_fitted_on_one_posterior_draw(cohort, tiny_config):
    x_train, x_val = cohort
    config = _config(tiny_config, epochs=2, stop_on="elbo")
    model = fit_vae(config, x_train, x_val).model
    value = generator_nll(model, x_train, x_val, order=4, samples=8, seed=11)
    # the same steps written out: one posterior draw per training haplotype, the head, the bound
    rng = np.random.default_rng(11)
    mean, log_var = encode(model, x_train)
    z = mean + np.exp(0.5 * log_var) * rng.standard_normal(mean.shape)
    head = ContextHead(order=4).fit(decode_logits(model, z), x_train)
    expected = importance_weighted_nlls(model, x_val, (head,), 8, rng)[0]["nll"]
    assert value == pytest.approx(expected, rel=1e-9)
    # a head that sees the sites before each one fits clustered haplotypes better than none
    plain = importance_weighted_nlls(model, x_val, (None,), 8, 11)[0]["nll"]
    assert value < plain


def test_training_stops_on_the_generator_and_keeps_its_best_check(cohort, tiny_config, monkeypatch):
    x_train, x_val = cohort
    scripted = {1: 50.0, 3: 40.0, 6: 30.0, 9: 35.0, 12: 31.0, 15: 29.0}  # epoch → value
    weights = {}

    def fake(model, x_fit, x_val, order, samples, seed):
        epoch = seed - 7 * 100_003 + 1  # the run's seed is 7: seed * 100_003 + epoch index
        weights[epoch] = model.get_weights()
        return scripted[epoch]

    monkeypatch.setattr(stopping, "generator_nll", fake)
    config = _config(tiny_config, epochs=30, patience=6, check_every=3)
    fitted = fit_vae(config, x_train, x_val)
    # checked at 1, 3, 6, 9, 12; no better value within 6 epochs of epoch 6: stopped after 12
    assert fitted.history[MONITOR] == [50, 50, 40, 40, 40, 30, 30, 30, 35, 35, 35, 31]
    assert fitted.best_epoch == 6
    # the weights kept are those of epoch 6 (the training went on and changed them)
    kept = fitted.model.get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(kept, weights[6], strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(kept, weights[12], strict=True))


def test_stop_on_elbo_watches_the_heldout_objective_as_before(cohort, tiny_config):
    x_train, x_val = cohort
    fitted = fit_vae(_config(tiny_config, epochs=4, stop_on="elbo"), x_train, x_val)
    assert MONITOR not in fitted.history
    assert fitted.best_epoch == int(np.argmin(fitted.history["val_loss"])) + 1


def test_a_short_fit_is_checked_at_its_first_and_last_epoch(cohort, tiny_config, monkeypatch):
    x_train, x_val = cohort
    seen = []

    def fake(model, x_fit, x_val, order, samples, seed):
        seen.append(seed - 7 * 100_003 + 1)
        return 10.0 - seen[-1]

    monkeypatch.setattr(stopping, "generator_nll", fake)
    fitted = fit_vae(_config(tiny_config, epochs=3, check_every=5), x_train, x_val)
    assert seen == [1, 3] and fitted.best_epoch == 3


def test_the_head_of_a_check_is_fitted_on_a_fixed_subset_of_rows(cohort):
    x_train, x_val = cohort
    check = GeneratorCheck(x_train, x_val, order=4, every=5, samples=4, rows=40, seed=2)
    again = GeneratorCheck(x_train, x_val, order=4, every=5, samples=4, rows=40, seed=2)
    assert check.x_fit.shape == (40, x_train.shape[1])
    np.testing.assert_array_equal(check.x_fit, again.x_fit)
    whole = GeneratorCheck(x_train, x_val, order=4, every=5, samples=4, rows=0, seed=2)
    assert whole.x_fit is x_train


def test_a_decoder_that_blew_up_scores_infinity(cohort, tiny_config):
    x_train, x_val = cohort
    model = fit_vae(_config(tiny_config, epochs=1, stop_on="elbo"), x_train, x_val).model
    kernel = next(w for w in model.decoder.layers[-1].weights if "kernel" in w.path)
    kernel.assign(np.full(kernel.shape, np.nan, dtype="float32"))
    assert generator_nll(model, x_train, x_val, order=4, samples=4, seed=0) == float("inf")


def test_stop_on_names_its_choices(tiny_config):
    with pytest.raises(ConfigError, match=r"'training.stop_on'.*'generator' or 'elbo'"):
        _config(tiny_config, stop_on="likelihood")
