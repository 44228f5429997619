"""The mosaic joint model: aggregate posteriors switched between nearest neighbours at boundaries."""

from __future__ import annotations

import numpy as np
import pytest

from vae_genomics.generate.joint import RegionLatentModel
from vae_genomics.generate.mosaic import MosaicPosterior, default_neighbours


def _posteriors(rng, n: int = 200, sections: int = 3, dim: int = 2):
    means = [rng.normal(size=(n, dim)) for _ in range(sections)]
    return means, [np.zeros((n, dim)) for _ in range(sections)]


def test_one_neighbour_follows_one_training_haplotype_through_the_region(rng):
    means, stds = _posteriors(rng)
    codes = MosaicPosterior(neighbours=1).fit(means, stds).sample(500, rng)
    # with zero spread every code is a training mean, and the row is the same in every section
    rows = [np.flatnonzero((means[0] == c).all(axis=1)) for c in codes[0]]
    assert all(len(r) == 1 for r in rows)
    rows = np.concatenate(rows)
    for k in range(1, 3):
        np.testing.assert_array_equal(codes[k], means[k][rows])


def test_switches_go_to_the_nearest_neighbours_of_the_section_before(rng):
    means, stds = _posteriors(rng, n=300)
    model = MosaicPosterior(neighbours=5, seed=1).fit(means, stds)
    codes = model.sample(2000, rng)
    lookup = {row.tobytes(): i for i, row in enumerate(means[0])}
    before = np.array([lookup[c.tobytes()] for c in codes[0]])
    after = np.array([np.flatnonzero((means[1] == c).all(axis=1))[0] for c in codes[1]])
    d_all = np.linalg.norm(means[0][:, None] - means[0][None], axis=2)
    fifth = np.sort(d_all, axis=1)[:, 4]  # distance to the 5th nearest (itself included)
    assert np.all(d_all[before, after] <= fifth[before] + 1e-9)
    assert (after != before).mean() > 0.5  # it does switch, to all 5 candidates in turn
    assert len(np.unique(after[before == before[0]])) > 1


def test_ties_are_broken_at_random(rng):
    # 100 identical haplotypes in section 1: the switch must reach all of them, not the first few
    means = [np.zeros((100, 2)), rng.normal(size=(100, 2))]
    stds = [np.zeros((100, 2))] * 2
    codes = MosaicPosterior(neighbours=3, seed=2).fit(means, stds).sample(5000, rng)
    reached = {np.flatnonzero((means[1] == c).all(axis=1))[0] for c in codes[1]}
    assert len(reached) > 90


def test_codes_are_drawn_from_the_chosen_posteriors(rng):
    means = [np.full((1, 1), 3.0), np.full((1, 1), -1.0)]
    stds = [np.full((1, 1), 0.5), np.full((1, 1), 2.0)]
    codes = MosaicPosterior(neighbours=4).fit(means, stds).sample(40000, rng)
    assert codes[0].mean() == pytest.approx(3.0, abs=0.02) and codes[0].std() == pytest.approx(
        0.5, abs=0.01
    )
    assert codes[1].mean() == pytest.approx(-1.0, abs=0.05) and codes[1].std() == pytest.approx(
        2.0, abs=0.03
    )


def test_region_model_dispatches_and_refuses_bad_input(rng):
    means, stds = _posteriors(rng, n=50)
    model = RegionLatentModel("mosaic", neighbours=7).fit(means, stds)
    assert model.components() == [7]
    assert [z.shape for z in model.sample(10, 0)] == [(10, 2)] * 3
    with pytest.raises(ValueError, match="neighbours"):
        MosaicPosterior(neighbours=0)
    with pytest.raises(ValueError, match="one row per training haplotype"):
        MosaicPosterior().fit([means[0], means[1][:10]], [stds[0], stds[1][:10]])


def test_default_neighbours_scale_with_the_training_set(rng):
    # one per 80 training haplotypes, rounded, at least one
    assert [default_neighbours(n) for n in (1, 40, 119, 121, 1440, 4077)] == [1, 1, 1, 2, 18, 51]
    means, stds = _posteriors(rng, n=400)
    model = RegionLatentModel("mosaic").fit(means, stds)
    assert model.components() == [5]
    assert model.mosaic_.table_[0].shape == (400, 5)


def test_sample_refuses_a_mosaic_without_neighbours_before_reading_runs(tmp_path):
    from vae_genomics.commands.sample_region import run_region
    from vae_genomics.common.errors import DataError

    with pytest.raises(DataError, match="neighbours must be >= 1"):
        run_region(tmp_path / "no-runs", 10, neighbours=0)
