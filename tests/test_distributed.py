"""runtime.distribute: mirrored — one distributed step equals the single-device step (issue 7).

TensorFlow's devices are fixed when it starts, so each check runs in a fresh Python process that
splits the CPU into two logical devices and mirrors over both (as MirroredStrategy does over GPUs).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

PRELUDE = textwrap.dedent(
    """
    import json
    import numpy as np
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    STRATEGY = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    """
)

STEP = PRELUDE + textwrap.dedent(
    """
    from vae_genomics.models.vae import HaplotypeVAE

    class Deterministic(HaplotypeVAE):
        # z = mean: the replicas would draw other noise than one device does for the whole batch
        def sample_posterior(self, mean, log_var, noise=None):
            return mean

    objective = {"schedule": {"kind": "linear", "start": 0.3, "epochs": 3}, "kl_weight": 1.0,
                 "reencode": {"weight": 0.5}}

    def build(strategy, cls=Deterministic):
        keras.utils.set_random_seed(3)
        with strategy.scope():
            model = cls(n_variants=12, latent_dim=2, hidden_units=[8], objective=objective,
                        steps_per_epoch=1, epochs=4, seed=3)
            # plain SGD: a gradient twice too large moves the weights twice as far (Adam's first
            # step would hide it, being invariant to the gradient's scale)
            model.compile(optimizer=keras.optimizers.SGD(0.5))
        return model

    x = (np.random.default_rng(0).random((8, 12)) < 0.4).astype(np.int8)
    single, mirrored = build(tf.distribute.get_strategy()), build(STRATEGY)
    before = [np.asarray(w) for w in single.trainable_weights]
    same_start = all(np.array_equal(np.asarray(a), np.asarray(b))
                     for a, b in zip(single.weights, mirrored.weights))
    hs = single.fit(x, batch_size=8, epochs=1, shuffle=False, verbose=0).history
    hm = mirrored.fit(x, batch_size=8, epochs=1, shuffle=False, verbose=0).history
    pairs = list(zip(single.trainable_weights, mirrored.trainable_weights))
    # the real model, with its noise, also steps under the strategy
    noisy = build(STRATEGY, cls=HaplotypeVAE)
    noisy_history = noisy.fit(x, batch_size=8, epochs=2, shuffle=False, verbose=0).history
    print(json.dumps({
        "replicas": STRATEGY.num_replicas_in_sync,
        "same_start": same_start,
        "max_diff": max(float(np.max(np.abs(np.asarray(a) - np.asarray(b)))) for a, b in pairs),
        "max_step": max(float(np.max(np.abs(np.asarray(a) - b)))
                        for a, b in zip(single.trainable_weights, before)),
        "history": {k: [hs[k][0], hm[k][0]] for k in ("loss", "kl", "reencode", "kl_weight")},
        "iterations": [int(single.optimizer.iterations.numpy()),
                       int(mirrored.optimizer.iterations.numpy())],
        "noisy_loss": noisy_history["loss"],
    }))
    """
)

FIT = PRELUDE + textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from vae_genomics.train import fit as training
    from vae_genomics.train.callbacks import load_checkpoint
    from vae_genomics.config import load_config

    training.distribution_strategy = lambda runtime: STRATEGY  # both logical CPUs, not only GPUs
    config = load_config(sys.argv[1], overrides={"runtime": {"distribute": "mirrored"},
                                                  "training": {"epochs": 2}})
    x = (np.random.default_rng(0).random((40, 30)) < 0.3).astype(np.int8)
    path = Path(sys.argv[2])
    fitted = training.fit_vae(config, x[:32], x[32:], checkpoint=path, fingerprint="f")
    state = load_checkpoint(path)
    print(json.dumps({"epochs": len(fitted.history["loss"]), "finished": state.finished,
                      "iterations": int(fitted.model.optimizer.iterations.numpy()),
                      "finite": bool(np.isfinite(fitted.history["val_loss"]).all())}))
    """
)


def _run(script: str, *args: str) -> dict:
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run(
        [sys.executable, "-c", script, *args], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_one_distributed_step_equals_the_single_device_step():
    out = _run(STEP)
    assert out["replicas"] == 2 and out["same_start"]
    assert out["iterations"] == [1, 1]
    # the step moved the weights, and moved them the same on one device and on two replicas
    assert out["max_step"] > 1e-2
    assert out["max_diff"] < 1e-5 * max(1.0, out["max_step"])
    for name, (one, two) in out["history"].items():
        assert two == pytest.approx(one, rel=1e-5, abs=1e-6), name
    assert out["history"]["kl_weight"][0] == pytest.approx(0.3)
    assert all(math.isfinite(v) for v in out["noisy_loss"])


def test_fit_vae_trains_and_checkpoints_over_two_replicas(tmp_path, tiny_config):
    out = _run(FIT, str(tiny_config), str(tmp_path / "state.npz"))
    assert out == {"epochs": 2, "finished": True, "iterations": 4, "finite": True}


@pytest.mark.parametrize("precision", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_option_trains_saves_and_restores_the_global_policy(
    tmp_path, tiny_config, precision, caplog
):
    import keras
    import numpy as np

    from vae_genomics.config import load_config
    from vae_genomics.train.fit import fit_vae

    config = load_config(
        tiny_config, overrides={"runtime": {"precision": precision}, "training": {"epochs": 2}}
    )
    x = (np.random.default_rng(0).random((40, 30)) < 0.3).astype(np.int8)
    with caplog.at_level("INFO", logger="vae_genomics.train.fit"):
        fitted = fit_vae(config, x[:32], x[32:], label="sec")
    assert keras.config.dtype_policy().name == "float32"  # not leaked to later models
    model = fitted.model
    assert model.encoder.layers[0].dtype_policy.name == precision
    assert model.encoder.layers[0].kernel.dtype == "float32"  # weights stay float32
    if precision == "mixed_float16":
        assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    assert np.isfinite(fitted.history["val_loss"]).all()
    assert any("devices:" in r.message and precision in r.message for r in caplog.records)
    model.save(tmp_path / "m.keras")
    # reloaded (report, sample, encode) it computes in float32 from the same float32 weights
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(
        np.asarray(loaded(x[:4]), dtype="float32"),
        np.asarray(model(x[:4]), dtype="float32"),
        rtol=0.05, atol=0.05,
    )  # fmt: skip
