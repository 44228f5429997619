"""The copy guard: leave-one-out target distances and distribution-matched selection."""

from __future__ import annotations

import numpy as np
import pytest

from vae_genomics.evaluation.privacy import exact_copy_fraction, hamming_matrix
from vae_genomics.generate.generators import make_generator
from vae_genomics.generate.guard import (
    leave_one_out_distances,
    quantile_bins,
    select_matching,
)
from vae_genomics.generate.names import GUARD_FACTOR, parse_guard


def test_leave_one_out_distances_match_a_brute_force_reference(rng):
    train = rng.integers(0, 2, (60, 40), dtype=np.int8)
    train[5] = train[17]  # a duplicate: distance 0 for both, not for itself
    d = leave_one_out_distances(train, rng)
    full = np.abs(train[:, None, :].astype(int) - train[None, :, :]).sum(-1).astype(float)
    np.fill_diagonal(full, np.inf)
    np.testing.assert_array_equal(d, full.min(axis=1))
    assert d[5] == d[17] == 0
    # a subset of rows, each still against all of train
    sub = leave_one_out_distances(train, np.random.default_rng(0), max_rows=10)
    assert len(sub) == 10 and set(sub) <= set(full.min(axis=1))
    with pytest.raises(ValueError, match="at least 2"):
        leave_one_out_distances(train[:1], rng)


def test_quantile_bins_give_zero_its_own_bin():
    edges = quantile_bins(np.array([0, 0, 0, 3, 4, 5, 9, 12.0]), 4)
    assert edges[0] == 0 and edges[1] == 0.5 and np.all(np.diff(edges) > 0)


def test_selection_follows_the_target_not_the_candidates(rng):
    # candidates: 80% exact copies (distance 0), the rest spread over 1..30; target: 10% zeros
    candidates = np.concatenate([np.zeros(3200), rng.integers(1, 31, 800)]).astype(float)
    target = np.concatenate([np.zeros(100), rng.integers(1, 31, 900)]).astype(float)
    keep = select_matching(candidates, target, 500, rng)
    assert len(keep) == 500 and len(set(keep.tolist())) == 500
    chosen = candidates[keep]
    assert abs(np.mean(chosen == 0) - 0.10) < 0.02  # zeros at the target's rate, not 80%
    for q in (0.25, 0.5, 0.75):
        assert abs(np.quantile(chosen, q) - np.quantile(target, q)) <= 3
    # too few candidates in a bin: the nearest bins fill in, the count is still n
    few_far = np.concatenate([np.zeros(900), np.full(100, 20.0)])
    keep = select_matching(few_far, np.full(200, 20.0), 300, rng)
    assert len(set(keep.tolist())) == 300 and np.sum(few_far[keep] == 20) == 100
    with pytest.raises(ValueError, match="at least 300 candidates"):
        select_matching(np.zeros(10), target, 300, rng)


def test_guard_names():
    assert parse_guard("guard") == GUARD_FACTOR and parse_guard("guard:8") == 8.0
    gen = make_generator("aggregate:1.5/temperature:0.5/guard")
    assert gen.guard == GUARD_FACTOR and gen.name == "aggregate:1.5/temperature:0.5/guard"
    assert make_generator("gmm/calls/guard:2").name == "gmm/calls/guard:2"
    assert make_generator("gmm/calls").guard is None
    for bad in ("aggregate/calls/guard:0.5", "aggregate/calls/shield", "aggregate/calls/guard:x"):
        with pytest.raises(ValueError, match="copy guard"):
            make_generator(bad)


def test_guarded_generator_copies_no_more_than_real_haplotypes_do(rng):
    from vae_genomics.generate.generators import Generator, PriorSource

    # a cohort of 20 founders, each haplotype a founder with 0-3 mutations: real unseen ones are
    # sometimes exact copies of training ones, but far less often than a copying generator's
    founders = rng.integers(0, 2, (20, 60), dtype=np.int8)

    def cohort(n):
        x = founders[rng.integers(0, 20, n)].copy()
        for row in x:
            flip = rng.choice(60, rng.integers(0, 4), replace=False)
            row[flip] ^= 1
        return x

    train, unseen = cohort(400), cohort(200)
    gen = Generator(PriorSource(), "calls", guard=4.0).fit_guard(train, seed=1)

    def copying_pool(n):  # 60% exact training copies, 40% fresh
        pool = train[rng.integers(0, len(train), n)].copy()
        fresh = rng.random(n) >= 0.6
        pool[fresh] = cohort(int(fresh.sum()))
        return pool

    pool = copying_pool(800)
    distances = hamming_matrix(pool, train).min(axis=1)
    kept = pool[select_matching(distances, gen.target, 200, rng)]
    real_rate = exact_copy_fraction(unseen, train)
    assert exact_copy_fraction(pool, train) > 0.6
    assert abs(exact_copy_fraction(kept, train) - real_rate) < 0.1
