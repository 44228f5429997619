"""Devices, distribution strategy and dtype policy of a training run."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import keras
import tensorflow as tf

from vae_genomics.config import RuntimeConfig
from vae_genomics.models.vae import HaplotypeVAE

log = logging.getLogger("vae_genomics.train.fit")


def distribution_strategy(runtime: RuntimeConfig) -> tf.distribute.Strategy:
    """The ``tf.distribute`` strategy of ``runtime.distribute`` (the default one for ``none``)."""
    if runtime.distribute == "mirrored":
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


@contextmanager
def dtype_policy(name: str) -> Iterator[None]:
    """Build layers under the Keras dtype policy ``name``; the previous global policy is restored."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def log_devices(model: HaplotypeVAE, strategy: tf.distribute.Strategy, label: str = "") -> None:
    """Log the visible devices, the replicas, the dtype policy and where the weights live."""
    devices = [d.name for d in tf.config.list_logical_devices()]
    gpus = [d for d in devices if ":GPU:" in d]
    first = model.trainable_variables[0]
    placed = getattr(getattr(first, "value", first), "device", "") or "default"
    log.info(
        "%s devices: %s (%d GPU); %s with %d replica(s); dtype policy %s; weights on %s",
        label, ", ".join(devices), len(gpus), type(strategy).__name__,
        strategy.num_replicas_in_sync, model.dtype_policy.name, placed,
    )  # fmt: skip
    if not gpus:
        log.debug("no GPU visible to TensorFlow: training on the CPU")
