"""The objective suite inside HaplotypeVAE's train_step/test_step."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from vcf_factory import structured_haplotypes

from vae_genomics.models.losses import gaussian_nll, reencode_log_prob, reencode_squared_error
from vae_genomics.models.vae import HaplotypeVAE
from vae_genomics.train.callbacks import DivergenceGuard

N_ROWS, BATCH = 96, 32  # three equal batches per epoch


@pytest.fixture
def x():
    hap, _ = structured_haplotypes(n_samples=N_ROWS // 2, n_variants=30, seed=4)
    return hap


def _model(objective=None, epochs=6, seed=0, steps_per_execution=1):
    keras.utils.set_random_seed(seed)
    model = HaplotypeVAE(
        30, 4, [16], objective=objective or {}, steps_per_epoch=N_ROWS // BATCH, epochs=epochs,
        seed=seed,
    )  # fmt: skip
    model.compile(optimizer=keras.optimizers.Adam(1e-3), steps_per_execution=steps_per_execution)
    return model


def _fit(model, x, epochs):
    return model.fit(x, batch_size=BATCH, epochs=epochs, shuffle=False, verbose=0).history


@pytest.mark.parametrize("steps_per_execution", [1, 3])
def test_linear_warmup_beta_changes_during_fit_as_its_closed_form(x, steps_per_execution):
    objective = {"kl_weight": 1.0, "schedule": {"kind": "linear", "start": 0.1, "epochs": 2}}
    model = _model(objective, steps_per_execution=steps_per_execution)
    history = _fit(model, x, epochs=4)
    # beta at steps t = 0..11 (warm-up over 6 steps), averaged per epoch of 3 steps
    beta = np.minimum(1.0, 0.1 + 0.9 * np.arange(12) / 6)
    np.testing.assert_allclose(history["kl_weight"], beta.reshape(4, 3).mean(axis=1), rtol=1e-5)
    assert history["kl_weight"][0] < history["kl_weight"][1] < history["kl_weight"][2]


def test_cyclical_beta_in_history(x):
    objective = {"schedule": {"kind": "cyclical", "cycles": 2, "ramp_fraction": 0.5}}
    history = _fit(_model(objective, epochs=4), x, epochs=4)
    # 12 steps, 2 cycles of 6 steps, ramp over 3 steps: 0, 1/3, 2/3, 1, 1, 1, then again
    tau = np.arange(12) % 6
    beta = np.minimum(1.0, tau / 3)
    np.testing.assert_allclose(history["kl_weight"], beta.reshape(4, 3).mean(axis=1), rtol=1e-5)


def test_capacity_target_moves_and_sets_the_loss(x):
    objective = {"capacity": {"enabled": True, "max": 6.0, "epochs": 2, "gamma": 3.0}}
    model = _model(objective)
    history = _fit(model, x, epochs=3)
    c = np.minimum(6.0, 6.0 * np.arange(9) / 6)
    np.testing.assert_allclose(history["capacity"], c.reshape(3, 3).mean(axis=1), rtol=1e-5)
    terms = model.objective(x[:BATCH])
    expected = float(terms["reconstruction"]) + 3.0 * abs(float(terms["kl"]) - 6.0)
    assert float(terms["loss"]) == pytest.approx(expected, rel=1e-5)


def test_free_bits_floor_each_dimension(x):
    model = _model({"kl_weight": 2.0, "free_bits": 0.5})
    terms = model.objective(x[:BATCH])
    kl_dim = np.asarray(terms["kl_per_dim"])
    expected = float(terms["reconstruction"]) + 2.0 * np.maximum(kl_dim, 0.5).sum()
    assert float(terms["loss"]) == pytest.approx(expected, rel=1e-5)
    # with every dimension under the floor, the rate term gives the encoder no gradient
    floored = _model({"free_bits": 1e3})
    with tf.GradientTape() as tape:
        t = floored.objective(x[:BATCH])
        rate = t["loss"] - t["reconstruction"]
    grads = tape.gradient(rate, floored.encoder.trainable_variables)
    assert float(rate) == pytest.approx(4 * 1e3)
    assert all(g is None or float(tf.reduce_max(tf.abs(g))) == 0.0 for g in grads)


@pytest.mark.parametrize(
    ("reencode", "source"),
    [
        ({"weight": 1.0, "loss": "se"}, "probabilities"),
        ({"weight": 1.0, "loss": "logprob", "cap": 0.0}, "probabilities"),
        ({"weight": 1.0, "loss": "se", "input": "sample"}, "sample"),
    ],
)
def test_reencoding_gradients_reach_encoder_and_decoder(x, reencode, source):
    model = _model({"reencode": reencode})
    with tf.GradientTape() as tape:
        mean, log_var = model.encode(x[:BATCH], training=True)
        z = model.sample_posterior(mean, log_var)
        term = tf.reduce_mean(model.reencode_loss(z, model.decode(z, training=True), training=True))
    variables = model.encoder.trainable_variables + model.decoder.trainable_variables
    grads = tape.gradient(term, variables)
    n_enc = len(model.encoder.trainable_variables)
    assert any(float(tf.reduce_max(tf.abs(g))) > 0 for g in grads[:n_enc]), source
    assert any(float(tf.reduce_max(tf.abs(g))) > 0 for g in grads[n_enc:]), source


def test_reencode_metric_is_logged_for_train_and_validation(x):
    model = _model({"reencode": {"weight": 0.5}})
    history = model.fit(x, validation_data=(x[:32],), batch_size=BATCH, epochs=1, verbose=0).history
    assert history["reencode"][0] > 0 and history["val_reencode"][0] > 0
    assert "val_kl_weight" in history


def test_reencode_losses_against_numpy(rng):
    z, mu = rng.normal(size=(5, 3)), rng.normal(size=(5, 3))
    log_var = rng.normal(size=(5, 3))
    np.testing.assert_allclose(
        np.asarray(reencode_squared_error(z, mu)), ((z - mu) ** 2).mean(axis=1), rtol=1e-6
    )
    nll = 0.5 * (np.log(2 * np.pi) + log_var + (z - mu) ** 2 / np.exp(log_var))
    for cap in (0.0, 1.0, -5.0):
        np.testing.assert_allclose(
            np.asarray(reencode_log_prob(z, mu, log_var, cap)),
            np.maximum(nll, cap).sum(axis=1),
            rtol=1e-6,
        )


def test_gaussian_likelihood_options(x, rng):
    xs, mean = rng.integers(0, 2, size=(4, 7)), rng.random((4, 7))
    reference = (0.5 * (xs - mean) ** 2 / 0.3**2 + np.log(0.3) + 0.5 * np.log(2 * np.pi)).sum(1)
    np.testing.assert_allclose(
        np.asarray(gaussian_nll(xs, mean, np.log(0.3))), reference, rtol=1e-6
    )

    optimal = _model({"likelihood": "gaussian", "sigma": "optimal"})
    terms = optimal.objective(x[:BATCH])
    assert 0 < float(terms["sigma"]) < 1
    learned = _model({"likelihood": "gaussian", "sigma": "learned"})
    assert learned.log_sigma is not None and learned.log_sigma.trainable
    before = float(learned.log_sigma.numpy())
    history = _fit(learned, x, epochs=2)
    assert float(learned.log_sigma.numpy()) != before and "sigma" in history
    fixed = _model({"likelihood": "gaussian", "sigma": 0.25})
    assert float(fixed.objective(x[:BATCH])["sigma"]) == pytest.approx(0.25)


def test_every_option_round_trips_through_keras(tmp_path, x):
    objective = {
        "likelihood": "gaussian",
        "sigma": "learned",
        "kl_weight": 0.5,
        "schedule": {"kind": "sigmoid", "start": 0.05, "epochs": 3, "steepness": 6.0},
        "free_bits": 0.1,
        "reencode": {"weight": 0.3, "loss": "logprob", "cap": 1.0, "input": "sample"},
    }
    model = _model(objective)
    _fit(model, x, epochs=1)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras", safe_mode=True)
    assert loaded.spec == model.spec
    assert loaded.get_config() == model.get_config()
    assert float(loaded.log_sigma.numpy()) == float(model.log_sigma.numpy())
    assert float(loaded.kl_weight.numpy()) == float(model.kl_weight.numpy())
    np.testing.assert_array_equal(np.asarray(loaded(x)), np.asarray(model(x)))


def test_divergence_guard_names_epoch_and_term_and_restores_weights(x):
    model = _model()
    guard = DivergenceGuard()
    guard.set_model(model)
    guard.on_epoch_end(0, {"loss": 10.0, "reconstruction": 9.0, "kl": 1.0})
    good = [w.copy() for w in model.get_weights()]
    model.set_weights([w * np.nan for w in good])
    guard.on_epoch_end(1, {"loss": np.nan, "reconstruction": 9.0, "kl": np.inf})
    assert guard.diverged and guard.epoch == 2 and guard.term == "kl"
    assert guard.last_good_epoch == 1 and model.stop_training
    for restored, expected in zip(model.get_weights(), good, strict=True):
        np.testing.assert_array_equal(restored, expected)


def test_mixed_precision_training_scales_the_loss_and_stays_finite(x):
    keras.mixed_precision.set_dtype_policy("mixed_float16")
    try:
        model = _model({"reencode": {"weight": 0.5}})
        assert model.compute_dtype == "float16"
        assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
        assert float(model.optimizer.scale_loss(1.0)) > 1.0  # the step scales before gradients
        history = _fit(model, x, epochs=2)
        assert np.isfinite(history["loss"]).all() and history["loss"][1] < history["loss"][0]
        assert model.objective(x[:8])["loss"].dtype == "float32"  # losses computed in float32
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
