"""PackedHaplotypes: calls held one bit each, read back by rows and columns exactly."""

from __future__ import annotations

import numpy as np
import pytest

from vae_genomics.data.packed import PackedHaplotypes, rows_of


@pytest.mark.parametrize("n_sites", [1, 7, 8, 9, 70, 3164])
def test_rows_and_columns_read_back_what_was_stored(n_sites):
    rng = np.random.default_rng(n_sites)
    calls = rng.integers(0, 2, (37, n_sites), dtype=np.int8)
    packed = PackedHaplotypes(37, n_sites)
    for start in range(0, 37, 6):  # filled a block of rows at a time, as the draws are
        packed.set_rows(start, calls[start : start + 6])
    assert packed.shape == calls.shape and len(packed) == 37
    assert packed.nbytes == 37 * ((n_sites + 7) // 8)  # an eighth of the int8 matrix
    np.testing.assert_array_equal(np.asarray(packed), calls)
    for rows, cols in [
        (slice(None), slice(0, 1)),
        (slice(3, 11), slice(None)),
        (slice(None), slice(n_sites // 3, n_sites // 3 + 5)),
        (slice(0, 37), slice(-4, None)),  # the last K sites: the next section's context
        (slice(36, 40), slice(5, 2)),  # past the end and empty, as numpy slices them
    ]:
        got = packed[rows, cols]
        assert got.dtype == np.int8
        np.testing.assert_array_equal(got, calls[rows, cols])
    np.testing.assert_array_equal(packed[:5], calls[:5])
    assert rows_of(packed) is packed and isinstance(rows_of(calls.tolist()), np.ndarray)


def test_bad_blocks_are_refused_with_what_does_not_fit():
    packed = PackedHaplotypes(4, 10)
    with pytest.raises(ValueError, match=r"shape \(2, 9\) at row 0 do not fit 4 haplotypes × 10"):
        packed.set_rows(0, np.zeros((2, 9), dtype=np.int8))
    with pytest.raises(ValueError, match="at row 3 do not fit"):
        packed.set_rows(3, np.zeros((2, 10), dtype=np.int8))
    with pytest.raises(ValueError, match="0 \\(REF\\) and 1 \\(ALT\\) only"):
        packed.set_rows(0, np.full((1, 10), 2, dtype=np.int8))
    with pytest.raises(TypeError, match="step of 1"):
        packed[::2]
    with pytest.raises(TypeError, match="row slice"):
        packed[0]


def test_a_row_view_shares_the_bits_of_its_rows():
    rng = np.random.default_rng(1)
    a, b = rng.integers(0, 2, (5, 13), dtype=np.int8), rng.integers(0, 2, (3, 13), dtype=np.int8)
    whole = PackedHaplotypes(8, 13)
    first, second = whole.row_view(0, 5), whole.row_view(5, 8)
    first.set_rows(0, a)
    second.set_rows(0, b)  # rows 5-7 of the whole: no copy anywhere
    assert second.shape == (3, 13) and np.shares_memory(second.bits, whole.bits)
    np.testing.assert_array_equal(np.asarray(whole), np.concatenate([a, b]))
    np.testing.assert_array_equal(second[1:3, 4:11], b[1:3, 4:11])
    assert whole.row_view(8, 8).shape == (0, 13)
    with pytest.raises(ValueError, match="rows 6:9 of 8"):
        whole.row_view(6, 9)
    with pytest.raises(ValueError, match="do not fit 3 haplotypes"):
        second.set_rows(1, a[:3])
