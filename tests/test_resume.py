"""Resumable training: a killed job continues from its last completed epoch (issue 7)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest
import yaml

from vae_genomics.common.errors import RunError
from vae_genomics.config import load_config
from vae_genomics.models.factory import build_vae
from vae_genomics.run.directory import CHECKPOINT_DIR, METRICS_FILE, REPORT_DIR, stage_run
from vae_genomics.train.callbacks import (
    CheckpointState,
    load_checkpoint,
    model_state,
    restore_model_state,
    save_checkpoint,
)
from vae_genomics.train.fit import fit_vae

#: Runs the CLI, killing itself with KILL_SIG right after the checkpoint of epoch KILL_AFTER.
KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from vae_genomics import cli
    from vae_genomics.train import callbacks
    after, sig = int(os.environ["KILL_AFTER"]), getattr(signal, os.environ["KILL_SIG"])
    original = callbacks.TrainingCheckpoint.on_epoch_end
    def on_epoch_end(self, epoch, logs=None):
        original(self, epoch, logs)
        if epoch + 1 == after:
            os.kill(os.getpid(), sig)
    callbacks.TrainingCheckpoint.on_epoch_end = on_epoch_end
    sys.exit(cli.main(sys.argv[1:]))
    """
)


def _config(tiny_config: Path, epochs: int = 6) -> Path:
    raw = yaml.safe_load(tiny_config.read_text())
    raw["training"].update(epochs=epochs, patience=50)
    raw["evaluation"] = {"iw_samples": 5, "elbo_samples": 2, "traversal_dims": 2}
    tiny_config.write_text(yaml.safe_dump(raw))
    return tiny_config


def _train(tmp_path: Path, config: Path, *extra: str, kill_after: int = 0, sig: str = "SIGKILL"):
    env = {**os.environ, "KILL_AFTER": str(kill_after), "KILL_SIG": sig, "CUDA_VISIBLE_DEVICES": ""}
    script = tmp_path / "killer.py"
    script.write_text(KILLER)
    cmd = [sys.executable, str(script), "train", "-c", str(config), "--run-name", "r", *extra]
    return subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_killed_training_resumes_from_last_completed_epoch(tmp_path, tiny_config):
    config = _config(tiny_config)
    # SIGKILL after epoch 4 (--resume with nothing to resume starts afresh): nothing can clean up
    second = _train(tmp_path, config, "--resume", kill_after=4)
    assert second.returncode == -signal.SIGKILL, second.stderr[-2000:]
    assert "resuming" not in second.stderr
    (section_dir,) = (tmp_path / "runs").iterdir()
    staging = section_dir / ".r.partial"
    state = load_checkpoint(staging / CHECKPOINT_DIR / "state.npz")
    assert state.epoch == 4 and not state.finished
    assert len(state.history["loss"]) == 4
    assert not (section_dir / "r").exists(), "a killed job must not leave a finished-looking run"
    # resumed to the end
    third = _train(tmp_path, config, "--resume")
    assert third.returncode == 0, third.stderr[-2000:]
    assert "resuming after epoch 4 of 6" in third.stderr
    # 4 epochs x 4 steps (64 training haplotypes, batch 16): schedules continue from here
    assert "optimiser step 16" in third.stderr
    run = section_dir / "r"
    history = pd.read_csv(run / "history.csv")
    assert history["epoch"].tolist() == [1, 2, 3, 4, 5, 6]
    assert history["loss"].iloc[:4].tolist() == pytest.approx(state.history["loss"])
    metrics = yaml.safe_load((run / METRICS_FILE).read_text())
    assert metrics["epochs_run"] == 6
    expected = {"config.yaml", "model.keras", "history.csv", "split.json", "latent.tsv",
                "metrics.json", "report", "tensorboard", "sites.tsv", "haplotypes.npz",
                "gmm.npz"}  # fmt: skip
    assert {p.name for p in run.iterdir()} == expected  # same layout as an uninterrupted run
    assert (run / REPORT_DIR / "index.html").is_file()
    assert not staging.exists()
    assert (section_dir / "latest").resolve() == run.resolve()


def test_sigterm_becomes_an_interruption_that_keeps_the_checkpoint(tmp_path):
    from vae_genomics.commands.options import interrupt_on_sigterm

    run = stage_run(tmp_path / "runs" / "sec", "r", overwrite=False)
    run.checkpoint.parent.mkdir()
    run.checkpoint.write_bytes(b"x")
    previous = signal.getsignal(signal.SIGTERM)
    try:
        interrupt_on_sigterm()
        with pytest.raises(KeyboardInterrupt), run.discard_on_error():
            os.kill(os.getpid(), signal.SIGTERM)  # the handler raises at the next bytecode
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert run.checkpoint.is_file() and not run.lock.exists()
    again = stage_run(tmp_path / "runs" / "sec", "r", overwrite=False, resume=True)
    assert again.staging.is_dir()
    again.release()


def _tiny_model(config, n_variants=20):
    keras.utils.set_random_seed(config.seed)
    return build_vae(
        n_variants, config.model, config.objective, config.training, config.seed, steps_per_epoch=2
    )


def test_checkpoint_round_trip_restores_model_optimizer_and_noise(tmp_path, tiny_config):
    config = load_config(tiny_config)
    x = (np.random.default_rng(0).random((32, 20)) < 0.3).astype(np.int8)
    model = _tiny_model(config)
    model.fit(x, epochs=2, batch_size=16, verbose=0)
    variables, optimizer = model_state(model)
    path = tmp_path / "ck" / "state.npz"
    save_checkpoint(
        path,
        CheckpointState(
            fingerprint="f", epoch=2, history={"loss": [2.0, 1.0]},
            model=[np.asarray(v) for v in variables],
            optimizer=[np.asarray(v) for v in optimizer],
        ),
    )  # fmt: skip
    assert not list(path.parent.glob(".*.tmp"))
    state = load_checkpoint(path)
    fresh = _tiny_model(config)
    restore_model_state(fresh, state)
    assert int(fresh.optimizer.iterations.numpy()) == 4
    names = [v.path for v in model.variables]
    assert any("seed_generator" in n for n in names), names  # the noise state is saved too
    for a, b in zip(model.variables + model.optimizer.variables,
                    fresh.variables + fresh.optimizer.variables, strict=True):  # fmt: skip
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    # the next step is the same step
    model.fit(x, epochs=1, batch_size=16, shuffle=False, verbose=0)
    fresh.fit(x, epochs=1, batch_size=16, shuffle=False, verbose=0)
    for a, b in zip(model.weights, fresh.weights, strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6, atol=1e-6)


def test_checkpoint_of_other_config_is_refused(tmp_path, tiny_config):
    config = load_config(tiny_config, overrides={"training": {"epochs": 2}})
    x = (np.random.default_rng(0).random((40, 20)) < 0.3).astype(np.int8)
    path = tmp_path / "state.npz"
    done = fit_vae(config, x[:32], x[32:], checkpoint=path, fingerprint="a")
    assert load_checkpoint(path).finished and len(done.history["loss"]) == 2
    # a finished checkpoint resumes without training another epoch
    again = fit_vae(config, x[:32], x[32:], checkpoint=path, fingerprint="a")
    assert again.history["loss"] == done.history["loss"]
    for a, b in zip(done.model.weights, again.model.weights, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    with pytest.raises(RunError, match="another configuration"):
        fit_vae(config, x[:32], x[32:], checkpoint=path, fingerprint="b")


def test_staging_keeps_a_checkpoint_until_commit_or_overwrite(tmp_path):
    parent = tmp_path / "runs" / "sec"
    run = stage_run(parent, "r", overwrite=False)
    run.checkpoint.parent.mkdir()
    run.checkpoint.write_bytes(b"x")
    run.release()
    resumed = stage_run(parent, "r", overwrite=False, resume=True)
    assert resumed.checkpoint.is_file()
    resumed.release()
    # neither --resume nor --overwrite: refused, the checkpoint stays
    with pytest.raises(RunError, match="Pass --resume to continue it, or --overwrite"):
        stage_run(parent, "r", overwrite=False)
    assert run.checkpoint.is_file() and not run.lock.exists()
    # any error keeps a staging dir with a checkpoint (an interruption, or any other error)
    for error in (KeyboardInterrupt, ValueError, OSError):
        again = stage_run(parent, "r", overwrite=False, resume=True)
        with pytest.raises(error), again.discard_on_error():
            raise error
        assert run.checkpoint.is_file() and not run.lock.exists()
    # --overwrite asks for a fresh start
    fresh = stage_run(parent, "r", overwrite=True)
    assert not fresh.checkpoint.exists()
    # a staging dir without a checkpoint holds nothing worth keeping
    with pytest.raises(ValueError), fresh.discard_on_error():
        raise ValueError
    assert not fresh.staging.exists() and not fresh.lock.exists()
    # an empty directory where the run lands (made by a workflow engine) is not a finished run
    (parent / "s" / "report").mkdir(parents=True)
    done = stage_run(parent, "s", overwrite=False)
    (done.staging / "metrics.json").write_text("{}")
    assert done.commit() == parent / "s" and (parent / "s" / "metrics.json").is_file()
    with pytest.raises(RunError, match="finished run"):
        stage_run(parent, "s", overwrite=False, resume=True)
