"""Same command, same numbers: a training repeated while other processes keep the cores busy gives
the same weights and the same metrics (``runtime.deterministic: true``, one seed, one machine)."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest


def _burn(seconds: float) -> None:
    end = time.monotonic() + seconds
    x = 0
    while time.monotonic() < end:
        x = (x * 31 + 7) % 1_000_003


def _train(config: Path, run_name: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "vae_genomics.cli", "-q", "train", "--config", str(config),
         "--run-name", run_name, "--set", "runtime.deterministic=true"],
        capture_output=True, text=True, check=False,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]


def _weights(run: Path) -> list[np.ndarray]:
    import keras

    import vae_genomics  # noqa: F401  (registers the model class)

    return [np.asarray(w) for w in keras.models.load_model(run / "model.keras").get_weights()]


@pytest.mark.slow
def test_a_training_repeated_under_load_gives_identical_weights_and_metrics(tiny_config):
    runs = tiny_config.parent / "runs"
    _train(tiny_config, "quiet")
    # with the other pytest worker, a burner keeps both cores busy while it trains
    burners = [multiprocessing.Process(target=_burn, args=(120,))]
    for p in burners:
        p.start()
    try:
        _train(tiny_config, "loaded")
    finally:
        for p in burners:
            p.terminate()
            p.join()
    section = next(p.name for p in runs.iterdir() if (p / "quiet").is_dir())
    quiet, loaded = runs / section / "quiet", runs / section / "loaded"
    for a, b in zip(_weights(quiet), _weights(loaded), strict=True):
        np.testing.assert_array_equal(a, b)
    mq, ml = (json.loads((r / "metrics.json").read_text()) for r in (quiet, loaded))
    assert mq["heldout"] == ml["heldout"]
    for key in ("iw_nll", "likelihood_attack", "mutual_information", "realism", "verdicts"):
        assert mq["evaluation"][key] == ml["evaluation"][key], key
    assert (quiet / "history.csv").read_text() == (loaded / "history.csv").read_text()
