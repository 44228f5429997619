"""KL-weight and capacity schedules against their closed forms."""

import itertools
import math

import numpy as np
import pytest

from vae_genomics.models import schedules


def _f(value) -> float:
    return float(np.asarray(value))


@pytest.mark.parametrize(("t", "expected"), [(0, 0.1), (5, 0.55), (10, 1.0), (25, 1.0)])
def test_linear_warmup(t, expected):
    assert _f(schedules.linear_warmup(t, 0.1, 1.0, 10)) == pytest.approx(expected, abs=1e-6)


def test_sigmoid_warmup_runs_exactly_from_start_to_target():
    values = [_f(schedules.sigmoid_warmup(t, 0.2, 2.0, 100, steepness=8.0)) for t in range(0, 121)]
    assert values[0] == pytest.approx(0.2, abs=1e-6)
    assert values[100] == pytest.approx(2.0, abs=1e-6)
    assert values[50] == pytest.approx(1.1, abs=1e-6)  # symmetric logistic: midpoint at T/2
    assert all(b >= a - 1e-7 for a, b in itertools.pairwise(values))  # monotone
    # closed form at t = 25
    sig = lambda u: 1 / (1 + math.exp(-u))  # noqa: E731
    s = (sig(8 * (0.25 - 0.5)) - sig(-4)) / (sig(4) - sig(-4))
    assert values[25] == pytest.approx(0.2 + 1.8 * s, abs=1e-6)


def test_cyclical_follows_fu_et_al():
    # 100 steps, 4 cycles of 25 steps, ramp over the first half (12.5 steps) of each cycle
    f = lambda t: _f(schedules.cyclical(t, 0.0, 1.0, total_steps=100, cycles=4, ramp=0.5))  # noqa: E731
    assert f(0) == 0.0
    assert f(5) == pytest.approx(5 / 12.5)
    assert f(12.5) == pytest.approx(1.0)
    assert f(20) == pytest.approx(1.0)
    assert f(25) == pytest.approx(0.0)  # new cycle
    assert f(30) == pytest.approx(5 / 12.5)
    assert f(99) == pytest.approx(1.0)


def test_constant_and_capacity():
    assert _f(schedules.kl_weight_at(123, "constant", target=0.3)) == pytest.approx(0.3)
    assert _f(schedules.capacity(0, 20.0, 40)) == 0.0
    assert _f(schedules.capacity(10, 20.0, 40)) == pytest.approx(5.0)
    assert _f(schedules.capacity(400, 20.0, 40)) == pytest.approx(20.0)


def test_unknown_schedule():
    with pytest.raises(ValueError, match="unknown KL schedule"):
        schedules.kl_weight_at(0, "exponential", target=1.0)


def test_schedule_end_epochs():
    assert schedules.schedule_end_epoch("constant", 10, 100, 4, 0.5) == 0
    assert schedules.schedule_end_epoch("linear", 10, 100, 4, 0.5) == 10
    assert schedules.schedule_end_epoch("sigmoid", 300, 100, 4, 0.5) == 100
    # 4 cycles of 25 epochs: the last ramp ends at 75 + 12.5
    assert schedules.schedule_end_epoch("cyclical", 10, 100, 4, 0.5) == 88
