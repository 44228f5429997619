"""The held-out split is a function of (seed, haplotype ID): the same in every section."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from vae_genomics.train.fit import split_haplotypes


def _ids(n: int) -> list[str]:
    return [f"S{i // 2:04d}_{'AB'[i % 2]}" for i in range(n)]


def test_split_partitions_rows_with_the_requested_size():
    train, val = split_haplotypes(101, 0.2, seed=3, ids=_ids(101))
    assert len(val) == round(0.2 * 101)
    assert np.array_equal(np.sort(np.concatenate([train, val])), np.arange(101))
    assert train.dtype == val.dtype == np.int64
    assert np.all(np.diff(train) > 0) and np.all(np.diff(val) > 0)


def test_split_holds_out_the_smallest_hash_keys():
    ids = _ids(30)
    _, val = split_haplotypes(30, 0.2, seed=11, ids=ids)
    keys = [int.from_bytes(hashlib.sha256(f"11:{h}".encode()).digest()[:8], "big") for h in ids]
    expected = np.sort(np.argsort(keys)[:6])
    assert np.array_equal(val, expected)


def test_split_depends_on_identity_not_on_row_order():
    ids = np.array(_ids(200))
    _, val = split_haplotypes(200, 0.25, seed=5, ids=ids)
    perm = np.random.default_rng(0).permutation(200)
    _, val_perm = split_haplotypes(200, 0.25, seed=5, ids=ids[perm])
    assert set(ids[val]) == set(ids[perm][val_perm])


def test_split_changes_with_the_seed_and_is_reproducible():
    ids = _ids(200)
    a = split_haplotypes(200, 0.2, seed=1, ids=ids)[1]
    b = split_haplotypes(200, 0.2, seed=1, ids=ids)[1]
    c = split_haplotypes(200, 0.2, seed=2, ids=ids)[1]
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_split_extremes_and_bad_input():
    train, val = split_haplotypes(2, 0.01, seed=0)
    assert len(train) == len(val) == 1
    train, val = split_haplotypes(3, 0.99, seed=0)
    assert len(train) == 1 and len(val) == 2
    with pytest.raises(ValueError, match="at least 2"):
        split_haplotypes(1, 0.2, seed=0)
    with pytest.raises(ValueError, match="IDs"):
        split_haplotypes(4, 0.5, seed=0, ids=["a", "b"])


def _run(name, start, end, seed=1, ids=None, val=None, scheme="bed", index=(0, 0)):
    from pathlib import Path

    from vae_genomics.run.region_sections import SectionRun

    ids = ids or _ids(10)
    val = val if val is not None else ids[:2]
    split = {"seed": seed, "validation_fraction": 0.2, "validation": val,
             "train": [h for h in ids if h not in val]}  # fmt: skip
    return SectionRun(name, "1", start, end, Path(name), scheme, *index, split)


def test_region_refuses_sections_whose_splits_samples_or_seeds_differ():
    from vae_genomics.common.errors import RunError
    from vae_genomics.run.region_sections import check_sections

    a, b = _run("A", 1, 100), _run("B", 101, 200)
    check_sections([a, b])  # consistent: no error
    with pytest.raises(
        RunError, match=r"sections A and B were trained with different seeds \(1 vs 2"
    ):
        check_sections([a, _run("B", 101, 200, seed=2)])
    with pytest.raises(
        RunError, match=r"sections A and B have different haplotypes \(0 only in A; 2"
    ):
        check_sections([a, _run("B", 101, 200, ids=_ids(12))])
    with pytest.raises(RunError, match="sections A and B hold out different haplotypes"):
        check_sections([a, _run("B", 101, 200, val=_ids(10)[2:4])])


def test_region_refuses_overlaps_and_gaps_and_names_the_stretches():
    from vae_genomics.common.errors import RunError
    from vae_genomics.run.region_sections import check_sections

    with pytest.raises(RunError, match=r"A \(1-100\) and B \(90-200\) overlap"):
        check_sections([_run("A", 1, 100), _run("B", 90, 200)])
    with pytest.raises(
        RunError, match=r"leave a gap \(101-149\).*1:1-100 \(1 sections\); 1:150-300"
    ):
        check_sections([_run("A", 1, 100), _run("B", 150, 200), _run("C", 201, 300)])
    # SNP windows touch when their variant indices do, whatever the bp gap
    check_sections([_run("A", 1, 100, scheme="snp-windows", index=(0, 50)),
                    _run("B", 150, 200, scheme="snp-windows", index=(50, 90))])  # fmt: skip
