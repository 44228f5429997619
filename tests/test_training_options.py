"""Compile options of the training config (XLA, steps per execution) reach the model and train it."""

import keras
import numpy as np
import pytest
from vcf_factory import structured_haplotypes

from vae_genomics.config import Config, ModelConfig, ObjectiveConfig, TrainingConfig
from vae_genomics.evaluation.likelihood import importance_weighted_nll
from vae_genomics.models.factory import build_vae
from vae_genomics.train.fit import make_dataset


@pytest.fixture(scope="module")
def haplotypes():
    hap, _ = structured_haplotypes(n_samples=48, n_variants=40, seed=3)
    return hap


def _model(training: TrainingConfig, objective: ObjectiveConfig | None = None, steps: int = 1):
    keras.utils.set_random_seed(5)
    return build_vae(
        40,
        ModelConfig(latent_dim=3, hidden_units=[24, 12]),
        objective or ObjectiveConfig(),
        training,
        seed=5,
        steps_per_epoch=steps,
    )


def test_defaults_are_valid_and_exposed():
    training = Config().training
    assert isinstance(training.steps_per_execution, int) and training.steps_per_execution >= 1
    assert training.jit_compile in (True, False, "auto")
    with pytest.raises(ValueError):
        TrainingConfig(steps_per_execution=0)


@pytest.mark.parametrize(("jit", "spe"), [(True, 1), (False, 4), (True, 3)])
def test_options_reach_model_compile(jit, spe):
    model = _model(TrainingConfig(jit_compile=jit, steps_per_execution=spe))
    assert model.jit_compile is jit
    assert model.steps_per_execution == spe


@pytest.mark.parametrize(
    ("jit", "spe", "objective"),
    [
        (True, 1, ObjectiveConfig()),
        (False, 3, ObjectiveConfig()),
        # the re-encoding path and a scheduled beta under XLA and several steps per call
        (True, 5, ObjectiveConfig(reencode={"weight": 1.0}, schedule={"kind": "linear"})),
        (True, 2, ObjectiveConfig(reencode={"weight": 0.5, "loss": "logprob", "input": "sample"})),
        # the learned mixture prior's Monte Carlo KL under XLA
        (True, 3, ObjectiveConfig(prior={"kind": "mog", "components": 4})),
    ],
)
def test_training_with_options_gives_finite_decreasing_loss(haplotypes, jit, spe, objective):
    batch = 16
    steps = int(np.ceil(len(haplotypes) / batch))
    model = _model(
        TrainingConfig(jit_compile=jit, steps_per_execution=spe, learning_rate=3e-3),
        objective,
        steps=steps,
    )
    ds = make_dataset(haplotypes, batch, shuffle=True, seed=0)
    history = model.fit(ds, validation_data=ds, epochs=12, shuffle=False, verbose=0).history
    losses = np.asarray(history["loss"])
    assert np.all(np.isfinite(losses)) and np.all(np.isfinite(history["val_loss"]))
    assert losses[-1] < losses[0]
    # the optimiser saw every batch of every epoch, whatever steps_per_execution is
    assert int(model.optimizer.iterations) == 12 * steps
    if objective.schedule.kind == "linear":
        assert float(model.kl_weight) == pytest.approx(min(1.0, 12 * steps / (10 * steps)))


def test_steps_per_execution_changes_no_weight(haplotypes):
    """The default's steps per call run the same steps in the same order as one step per call:
    the same weights and history to the last bit, also where an epoch (6 steps of 16 of the 96
    haplotypes) is shorter than one call."""
    default = TrainingConfig().steps_per_execution
    assert default > 6
    fitted = {}
    for spe in (1, default):
        model = _model(TrainingConfig(steps_per_execution=spe), steps=6)
        ds = make_dataset(haplotypes, 16, shuffle=True, seed=0)
        history = model.fit(ds, validation_data=ds, epochs=4, verbose=0).history
        fitted[spe] = (model.get_weights(), history, int(model.optimizer.iterations))
    (w1, h1, it1), (wd, hd, itd) = fitted[1], fitted[default]
    assert it1 == itd == 4 * 6
    assert h1 == hd
    for a, b in zip(w1, wd, strict=True):
        np.testing.assert_array_equal(a, b)


def test_importance_weighted_nll_is_the_same_under_xla(haplotypes):
    plain = _model(TrainingConfig(jit_compile=False))
    xla = _model(TrainingConfig(jit_compile=True, steps_per_execution=2))
    xla.set_weights(plain.get_weights())
    a = importance_weighted_nll(plain, haplotypes[:20], n_samples=8, seed=1)
    b = importance_weighted_nll(xla, haplotypes[:20], n_samples=8, seed=1)
    assert np.isfinite(b["nll"])
    assert b["nll"] == pytest.approx(a["nll"], rel=1e-4)


def test_xla_is_left_to_keras_under_a_distribution_strategy():
    import tensorflow as tf

    with tf.distribute.MirroredStrategy(["/cpu:0"]).scope():
        model = _model(TrainingConfig(jit_compile=True, steps_per_execution=2))
    assert model.jit_compile is False  # Keras's "auto" turns XLA off under tf.distribute
    assert model.steps_per_execution == 2
