"""Schedules of the objective's coefficients, as pure functions of the optimiser step.

Every function takes the step ``t`` (the number of optimiser updates already applied: 0 at the first
batch) as a scalar tensor, numpy number or float, plus the schedule's parameters in *steps*, and is
written with ``keras.ops`` so it runs inside the compiled training step (``tf.function``, XLA,
``steps_per_execution``) as well as in numpy for tests. Epoch-valued options are converted to steps
with :func:`epochs_to_steps`.

KL weight β(t), from ``start`` to ``target``:

- ``constant``: β(t) = target.
- ``linear`` warm-up (Bowman et al. 2015; Sønderby et al. 2016):
  β(t) = start + (target − start) · min(1, t / T).
- ``sigmoid`` warm-up: β(t) = start + (target − start) · s(t) with
  s(t) = (σ(k (t/T − ½)) − σ(−k/2)) / (σ(k/2) − σ(−k/2)) for t < T and 1 after, a logistic curve of
  steepness k rescaled to run exactly from start (t = 0) to target (t = T).
- ``cyclical`` (Fu et al. 2019): the run's T_total steps are split into M cycles of length
  P = T_total / M; within a cycle, τ = (t mod P) / P and β = start + (target − start) · min(1, τ / R)
  (a linear ramp over the first fraction R of each cycle, then flat).

Capacity target (Burgess et al. 2018): C(t) = C_max · min(1, t / T_C) nats.
"""

from __future__ import annotations

import math

from keras import ops

SCHEDULES = ("constant", "linear", "sigmoid", "cyclical")


def epochs_to_steps(epochs: float, steps_per_epoch: int) -> int:
    """Number of optimiser steps in ``epochs`` epochs (at least 1)."""
    return max(1, round(epochs * steps_per_epoch))


def _progress(t, length: int):
    """min(1, t / length) as float32."""
    return ops.minimum(1.0, ops.cast(t, "float32") / float(max(length, 1)))


def linear_warmup(t, start: float, target: float, warmup_steps: int):
    """Linear warm-up from ``start`` to ``target`` over ``warmup_steps``, then flat."""
    return start + (target - start) * _progress(t, warmup_steps)


def sigmoid_warmup(t, start: float, target: float, warmup_steps: int, steepness: float = 10.0):
    """Logistic warm-up rescaled to go exactly from ``start`` (t=0) to ``target`` (t=T)."""
    u = _progress(t, warmup_steps)
    low = 1.0 / (1.0 + math.exp(steepness / 2))
    high = 1.0 / (1.0 + math.exp(-steepness / 2))
    s = (ops.sigmoid(steepness * (u - 0.5)) - low) / (high - low)
    return start + (target - start) * s


def cyclical(t, start: float, target: float, total_steps: int, cycles: int = 4, ramp: float = 0.5):
    """Cyclical schedule of Fu et al. (2019): ``cycles`` linear ramps over fraction ``ramp``."""
    period = max(total_steps / max(cycles, 1), 1.0)
    t = ops.cast(t, "float32")
    tau = (t - ops.floor(t / period) * period) / period
    return start + (target - start) * ops.minimum(1.0, tau / max(ramp, 1e-12))


def capacity(t, c_max: float, capacity_steps: int):
    """Capacity target C(t) = C_max · min(1, t / T_C), in nats."""
    return c_max * _progress(t, capacity_steps)


def kl_weight_at(
    t,
    kind: str,
    target: float,
    start: float = 0.0,
    warmup_steps: int = 1,
    total_steps: int = 1,
    steepness: float = 10.0,
    cycles: int = 4,
    ramp: float = 0.5,
):
    """β(t) for the named schedule (see the module docstring); float32 scalar."""
    if kind == "constant":
        return ops.cast(ops.convert_to_tensor(target), "float32") + 0.0 * ops.cast(t, "float32")
    if kind == "linear":
        return linear_warmup(t, start, target, warmup_steps)
    if kind == "sigmoid":
        return sigmoid_warmup(t, start, target, warmup_steps, steepness)
    if kind == "cyclical":
        return cyclical(t, start, target, total_steps, cycles, ramp)
    raise ValueError(f"unknown KL schedule {kind!r}; expected one of {SCHEDULES}")


def schedule_end_epoch(kind: str, warmup_epochs: int, epochs: int, cycles: int, ramp: float) -> int:
    """First epoch (0-based) from which β no longer changes within the run.

    Early stopping compares validation objectives only from this epoch on: objectives computed with
    different β are not comparable. For ``cyclical`` it is the end of the last ramp.
    """
    if kind in ("linear", "sigmoid"):
        return min(warmup_epochs, epochs)
    if kind == "cyclical":
        period = epochs / max(cycles, 1)
        return min(epochs, math.ceil((cycles - 1) * period + ramp * period))
    return 0
