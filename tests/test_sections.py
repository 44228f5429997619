"""Section windowing, naming and lookup."""

import numpy as np
import pytest

from vae_genomics.data.sections import find_section, section_name, snp_windows, window_bounds
from vae_genomics.errors import DataError


@pytest.mark.parametrize(
    ("n", "window", "expected"),
    [
        (10, 5, [(0, 5), (5, 10)]),  # exact multiple
        (11, 5, [(0, 5), (5, 11)]),  # remainder 1 < 5 // 2 merges into the previous window
        (12, 5, [(0, 5), (5, 10), (10, 12)]),  # remainder 2 == 5 // 2 stays a section
        (3, 5, [(0, 3)]),  # fewer SNPs than a window: one section
        (0, 5, []),
        (1000, 1000, [(0, 1000)]),
        (1499, 1000, [(0, 1499)]),
        (1500, 1000, [(0, 1000), (1000, 1500)]),
    ],
)
def test_window_bounds_remainder_rule(n, window, expected):
    assert window_bounds(n, window) == expected


def test_window_bounds_cover_every_index_once():
    for n in range(0, 60):
        bounds = window_bounds(n, 7)
        covered = [i for a, b in bounds for i in range(a, b)]
        assert covered == list(range(n))


def test_snp_windows_per_contig_with_names():
    chrom = np.array(["1"] * 9 + ["chrX"] * 3, dtype=object)
    positions = np.array([10, 20, 30, 40, 50, 60, 70, 80, 90, 5, 15, 25])
    sections = snp_windows(chrom, positions, window_snps=4)
    # contig 1: windows of 4, 4 and a remainder of 1 (< 4 // 2) merged into the second
    assert [s.name for s in sections] == ["1_10-40", "1_50-90", "chrX_5-25"]
    assert [(s.index_start, s.index_stop) for s in sections] == [(0, 4), (4, 9), (9, 12)]
    assert sections[1].n_variants == 5
    assert sections[2].contig == "chrX" and sections[2].start == 5 and sections[2].end == 25


def test_section_names_are_safe_for_files_and_wildcards():
    name = section_name("HLA-A*01:01/x", 1, 2)
    assert name == "HLA_A_01_01_x_1-2"
    assert "/" not in name and ":" not in name


def test_unsorted_contigs_are_an_error():
    chrom = np.array(["1", "2", "1"], dtype=object)
    with pytest.raises(DataError, match=r"contig '1' are not contiguous.*bcftools sort"):
        snp_windows(chrom, np.array([1, 2, 3]), 2)


def test_unknown_section_suggests_nearest_names():
    sections = snp_windows(np.array(["22"] * 4, dtype=object), np.array([100, 200, 300, 400]), 2)
    assert find_section(sections, "22_300-400").start == 300
    with pytest.raises(DataError) as err:
        find_section(sections, "22_300-401")
    assert "unknown section '22_300-401'" in str(err.value)
    assert "22_300-400" in str(err.value)
    assert "vae-genomics sections" in str(err.value)
