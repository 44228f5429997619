"""The epoch kept: the generator's best check or early stopping's (``training.select``)."""

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
    config = _config(tiny_config, epochs=2, select="elbo")
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


def _scripted(monkeypatch, values: dict[int, float], at_end: float):
    """Checks that return ``values[epoch]`` (epochs from the optimiser's step: 96 haplotypes in
    batches of 16) and ``at_end`` for the check of the weights early stopping restored; the
    weights of every check by epoch."""
    weights, ended = {}, []
    original = GeneratorCheck.on_train_end

    def on_train_end(self, logs=None):
        ended.append(True)
        original(self, logs)

    def fake(model, x_fit, x_val, order, samples, seed):
        assert seed == 7  # the run's seed at every check: the same draws
        if ended:
            return at_end
        epoch = int(model.optimizer.iterations.numpy()) // 6
        weights[epoch] = model.get_weights()
        return values[epoch]

    monkeypatch.setattr(stopping, "generator_nll", fake)
    monkeypatch.setattr(GeneratorCheck, "on_train_end", on_train_end)
    return weights


def _same(a: list[np.ndarray], b: list[np.ndarray]) -> bool:
    return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


SCRIPT = {1: 30.0, 3: 40.0, 6: 45.0, 9: 45.0, 12: 45.0}  # epoch → NLL: the best check is epoch 1


def test_the_generator_epoch_is_kept_when_it_beats_the_elbo_epoch_by_the_margin(
    cohort, tiny_config, monkeypatch
):
    x_train, x_val = cohort
    weights = _scripted(monkeypatch, SCRIPT, at_end=40.0)  # 30 < (1 - 0.02) × 40
    config = _config(tiny_config, epochs=12, patience=50, check_every=3)
    fitted = fit_vae(config, x_train, x_val)
    assert fitted.history[MONITOR] == [30, 30, 40, 40, 40, 45, 45, 45, 45, 45, 45, 45]
    elbo_epoch = int(np.argmin(fitted.history["val_loss"])) + 1
    assert elbo_epoch > 1  # training improved the held-out objective after epoch 1
    assert fitted.selection == {
        "epoch": 1, "by": "generator", "elbo_epoch": elbo_epoch, "elbo_nll": 40.0,
        "generator_epoch": 1, "generator_nll": 30.0, "margin": 0.02,
    }  # fmt: skip
    assert fitted.best_epoch == 1 and _same(fitted.model.get_weights(), weights[1])


def test_the_elbo_epoch_is_kept_when_the_generator_gains_less_than_the_margin(
    cohort, tiny_config, monkeypatch
):
    x_train, x_val = cohort
    weights = _scripted(monkeypatch, SCRIPT, at_end=30.5)  # 30 > (1 - 0.02) × 30.5
    config = _config(tiny_config, epochs=12, patience=50, check_every=3)
    fitted = fit_vae(config, x_train, x_val)
    elbo_epoch = int(np.argmin(fitted.history["val_loss"])) + 1
    assert fitted.selection["by"] == "elbo" and fitted.selection["elbo_nll"] == 30.5
    assert fitted.best_epoch == elbo_epoch > 1
    assert not _same(fitted.model.get_weights(), weights[1])
    # the same run under select: elbo keeps the same weights
    again = fit_vae(_config(tiny_config, epochs=12, patience=50, select="elbo"), x_train, x_val)
    assert _same(fitted.model.get_weights(), again.model.get_weights())


def test_select_elbo_keeps_the_best_heldout_objective_as_before(cohort, tiny_config):
    x_train, x_val = cohort
    fitted = fit_vae(_config(tiny_config, epochs=4, select="elbo"), x_train, x_val)
    assert MONITOR not in fitted.history and fitted.selection is None
    assert fitted.best_epoch == int(np.argmin(fitted.history["val_loss"])) + 1


def test_a_resumed_fit_keeps_the_checks_best_weights(cohort, tiny_config, tmp_path):
    from vae_genomics.train.callbacks import load_checkpoint

    x_train, x_val = cohort
    config = _config(tiny_config, epochs=4, patience=50, check_every=2)
    path = tmp_path / "state.npz"
    done = fit_vae(config, x_train, x_val, checkpoint=path, fingerprint="a")
    state = load_checkpoint(path)
    assert state.check["best"]["epoch"] == done.selection["generator_epoch"]
    assert len(state.check_weights) == len(done.model.get_weights())
    # a finished checkpoint resumes without another epoch and chooses the same weights again
    again = fit_vae(config, x_train, x_val, checkpoint=path, fingerprint="a")
    assert again.selection == done.selection
    assert _same(again.model.get_weights(), done.model.get_weights())


def test_the_head_of_a_check_is_fitted_on_a_fixed_subset_of_rows(cohort):
    x_train, x_val = cohort

    def make(rows):
        return GeneratorCheck(x_train, x_val, None, 4, every=5, samples=4, rows=rows, margin=0.0,
                              seed=2)  # fmt: skip

    check, again = make(40), make(40)
    assert check.x_fit.shape == (40, x_train.shape[1])
    np.testing.assert_array_equal(check.x_fit, again.x_fit)
    assert make(0).x_fit is x_train


def test_a_decoder_that_blew_up_scores_infinity(cohort, tiny_config):
    x_train, x_val = cohort
    model = fit_vae(_config(tiny_config, epochs=1, select="elbo"), x_train, x_val).model
    kernel = next(w for w in model.decoder.layers[-1].weights if "kernel" in w.path)
    kernel.assign(np.full(kernel.shape, np.nan, dtype="float32"))
    assert generator_nll(model, x_train, x_val, order=4, samples=4, seed=0) == float("inf")


def test_select_names_its_choices(tiny_config):
    with pytest.raises(ConfigError, match=r"'training.select'.*'generator' or 'elbo'"):
        _config(tiny_config, select="likelihood")


def test_the_log_says_which_epoch_was_kept_and_why():
    from vae_genomics.train.stopping import describe_choice

    base = {"elbo_epoch": 40, "elbo_nll": 100.0, "generator_epoch": 15, "generator_nll": 80.0,
            "margin": 0.02}  # fmt: skip
    assert describe_choice(None) == "best val_loss"
    kept = describe_choice({**base, "epoch": 15, "by": "generator"})
    assert "generator's best check" in kept and "80.00 against 100.00" in kept and "40" in kept
    within = describe_choice({**base, "epoch": 40, "by": "elbo", "generator_nll": 99.0})
    assert within.startswith("best val_loss") and "not lower by more than" in within
    alone = {**base, "epoch": 15, "by": "generator", "elbo_epoch": None, "elbo_nll": None}
    assert describe_choice(alone) == "the generator's best check: held-out NLL 80.00"
