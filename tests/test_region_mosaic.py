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


def _rows(codes: list[np.ndarray], means: list[np.ndarray]) -> np.ndarray:
    """The training row behind each code of each section (zero spread), shape (n, K)."""
    pairs = zip(codes, means, strict=True)
    return np.stack([[np.flatnonzero((m == c).all(axis=1))[0] for c in z] for z, m in pairs], 1)


def test_grouped_switches_stay_in_the_templates_group(rng):
    # two groups that sit together in every section's latent space: free switches mix them
    n, k = 120, 6
    means = [rng.normal(size=(n, 2)) for _ in range(k)]
    stds = [np.zeros((n, 2))] * k
    groups = np.where(np.arange(n) < 40, "A", "B")  # 40 and 80 haplotypes
    free = _rows(MosaicPosterior(neighbours=10, seed=1).fit(means, stds).sample(600, rng), means)
    assert (groups[free] != groups[free[:, :1]]).any(axis=1).mean() > 0.5
    model = MosaicPosterior(neighbours=10, seed=1).fit(means, stds, groups=groups)
    rows = _rows(model.sample(600, rng), means)
    assert (groups[rows] == groups[rows[:, :1]]).all()  # never leaves its group
    # the groups are drawn in the training proportions, and every candidate is used
    assert (groups[rows[:, 0]] == "A").mean() == pytest.approx(40 / 120, abs=0.06)
    assert len(np.unique(rows[:, -1])) > 100
    # each switch goes to one of the 10 nearest of the template's own group
    table = model.table_[0]
    for i in (0, 50):
        same = np.flatnonzero(groups == groups[i])
        d = np.linalg.norm(means[0][same] - means[0][i], axis=1)
        assert set(table[i, :10]) == set(same[np.argsort(d)[:10]])


def test_grouped_neighbours_scale_with_each_group_or_are_capped_by_it(rng):
    n = 400
    means, stds = _posteriors(rng, n=n)
    groups = np.where(np.arange(n) < 100, "small", "large")  # 100 and 300 haplotypes
    scaled = MosaicPosterior(seed=1).fit(means, stds, groups=groups)
    assert sorted(set(scaled.widths_.tolist())) == [1, 4]  # 100 / 80 and 300 / 80, rounded
    capped = MosaicPosterior(neighbours=150, seed=1).fit(means, stds, groups=groups)
    assert sorted(set(capped.widths_.tolist())) == [100, 150]
    with pytest.raises(ValueError, match="3 group labels for 400"):
        MosaicPosterior().fit(means, stds, groups=groups[:3])


def test_ungrouped_mosaic_is_unchanged_by_the_groups_option(rng):
    # groups=None draws what the mosaic drew before labels existed: one table over every row
    means, stds = _posteriors(rng, n=150)
    model = MosaicPosterior(neighbours=6, seed=3).fit(means, stds)
    assert model.widths_ is None
    jitter_rng = np.random.default_rng(3)
    x = means[0] + 1e-6 * (means[0].std() + 1e-12) * jitter_rng.standard_normal(means[0].shape)
    from sklearn.neighbors import NearestNeighbors

    want = NearestNeighbors(n_neighbors=6).fit(x).kneighbors(x, return_distance=False)
    np.testing.assert_array_equal(model.table_[0], want)


def test_region_groups_come_from_the_runs_populations(rng):
    from types import SimpleNamespace

    from vae_genomics.generate.region import training_groups

    pops = np.array(["YRI", "CEU", "CHB", "YRI", "GBR", "CEU"], dtype=object)
    supers = np.array(["AFR", "EUR", "EAS", "AFR", "EUR", "EUR"], dtype=object)
    run = SimpleNamespace(data=SimpleNamespace(populations=pops), superpopulations=supers)
    region = SimpleNamespace(sections=[run], train_rows=np.array([5, 0, 4]),
                             section_rows=lambda k: np.arange(6))  # fmt: skip
    assert training_groups(region).tolist() == ["EUR", "AFR", "EUR"]
    assert training_groups(region, "population").tolist() == ["CEU", "YRI", "GBR"]
    assert training_groups(region, "none") is None
    run.superpopulations = None  # a populations table without that column: the populations
    assert training_groups(region).tolist() == ["CEU", "YRI", "GBR"]
    run.data.populations = None
    assert training_groups(region) is None
    with pytest.raises(ValueError, match="unknown group level 'continent'"):
        training_groups(region, "continent")


def test_sample_refuses_unknown_mosaic_groups_before_reading_runs(tmp_path):
    from vae_genomics.commands.sample_region import run_region
    from vae_genomics.common.errors import DataError

    with pytest.raises(DataError, match="unknown mosaic groups 'continent'"):
        run_region(tmp_path / "no-runs", 10, groups="continent")


def test_switches_can_be_chosen_on_other_features_than_the_codes(rng):
    # boundary alleles: each switch goes to one of the m nearest in those features
    n = 200
    means, stds = _posteriors(rng, n=n, sections=3)
    alleles = [rng.integers(0, 2, size=(n, 12)).astype(np.int8) for _ in range(2)]
    model = MosaicPosterior(neighbours=4, seed=1).fit(means, stds, switch_on=alleles)
    for table, x in zip(model.table_, alleles, strict=True):
        d = (x[:, None, :] != x[None, :, :]).sum(axis=2)
        fourth = np.sort(d, axis=1)[:, 3]
        assert np.all(d[np.arange(n)[:, None], table] <= fourth[:, None])
    plain = MosaicPosterior(neighbours=4, seed=1).fit(means, stds)
    assert not np.array_equal(plain.table_[0], model.table_[0])
    with pytest.raises(ValueError, match=r"one array per boundary \(2\)"):
        MosaicPosterior().fit(means, stds, switch_on=alleles[:1])


def test_boundary_alleles_are_the_last_sites_before_each_boundary():
    from types import SimpleNamespace

    from vae_genomics.generate.region import boundary_alleles

    hap = np.arange(5 * 10).reshape(5, 10) % 2
    region = SimpleNamespace(haplotypes=hap, train_rows=np.array([4, 1]),
                             columns=[np.arange(3), np.arange(5), np.arange(2)])  # fmt: skip
    got = boundary_alleles(region, 4)
    np.testing.assert_array_equal(got[0], hap[[4, 1], 0:3])  # a section shorter than 4 sites
    np.testing.assert_array_equal(got[1], hap[[4, 1], 4:8])
    assert len(got) == 2
    with pytest.raises(ValueError, match="switch sites must be >= 1"):
        boundary_alleles(region, 0)


def test_boundary_alleles_are_read_at_the_common_sites_only():
    """With rare variants kept, the switch window holds the last common sites (MAF >= 1% in the
    cohort); a section without any falls back to its last sites."""
    from types import SimpleNamespace

    from vae_genomics.generate.region import boundary_alleles

    rng = np.random.default_rng(0)
    hap = (rng.random((200, 12)) < 0.5).astype(np.int8)  # common sites
    hap[:, [3, 5, 6]] = 0
    hap[0, [3, 5, 6]] = 1  # rare: 1 copy in 200 (MAF 0.005)
    hap[:, 8:11] = 0  # the second section (sites 7-10): one common site, a singleton, two zeros
    hap[1, 9] = 1
    region = SimpleNamespace(haplotypes=hap, train_rows=np.arange(0, 200, 2),
                             columns=[np.arange(7), np.arange(4), np.arange(1)])  # fmt: skip
    train = hap[0:200:2]
    first, second = boundary_alleles(region, 3)
    np.testing.assert_array_equal(first, train[:, [1, 2, 4]])  # 6, 5, 3 skipped
    np.testing.assert_array_equal(second, train[:, [7]])  # fewer common sites than the window
    every = boundary_alleles(region, 3, min_maf=0.0)  # every site counts: the plain last sites
    np.testing.assert_array_equal(every[0], train[:, 4:7])
    hap[:, 7] = 0  # no common site left in the second section: its last 3 sites
    np.testing.assert_array_equal(boundary_alleles(region, 3)[1], train[:, [8, 9, 10]])


def test_sample_refuses_negative_switch_sites_before_reading_runs(tmp_path):
    from vae_genomics.commands.sample_region import run_region
    from vae_genomics.common.errors import DataError

    with pytest.raises(DataError, match="switch sites must be >= 0, got -1"):
        run_region(tmp_path / "no-runs", 10, switch_sites=-1)
