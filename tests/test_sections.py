"""Section windowing, naming and lookup."""

import numpy as np
import pytest

from vae_genomics.common.errors import DataError
from vae_genomics.data.sections import (
    Region,
    bp_windows,
    find_section,
    parse_region,
    read_bed,
    region_sections,
    safe_name,
    section_name,
    snp_windows,
    window_bounds,
)


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


def test_bp_windows_are_fixed_from_position_one_and_skip_empty_windows():
    chrom = np.array(["1"] * 5 + ["2"] * 2, dtype=object)
    positions = np.array([1, 1000, 1001, 3500, 4000, 999, 1000])
    sections = bp_windows(chrom, positions, window_bp=1000)
    assert [s.name for s in sections] == ["1_1-1000", "1_1001-2000", "1_3001-4000", "2_1-1000"]
    assert [(s.index_start, s.index_stop) for s in sections] == [(0, 2), (2, 3), (3, 5), (5, 7)]
    assert (sections[2].start, sections[2].end) == (3001, 4000)


def test_bed_intervals_become_one_based_inclusive_sections(tmp_path):
    bed = tmp_path / "s.bed"
    bed.write_text(
        "# comment\nbrowser position chr1\n"
        "chr1\t0\t100\tHLA-A*01:01\n"  # named: made file-name safe
        "chr1\t199\t300\n"  # unnamed: contig_start-end
        "chr2 10 20 .\n"  # space-separated, '.' name
    )
    regions = read_bed(bed)
    assert regions == [
        Region("HLA-A_01_01", "chr1", 1, 100),
        Region("chr1_200-300", "chr1", 200, 300),
        Region("chr2_11-20", "chr2", 11, 20),
    ]
    chrom = np.array(["chr1"] * 4 + ["chr2"], dtype=object)
    positions = np.array([1, 100, 199, 200, 20])
    sections = region_sections(regions, chrom, positions, str(bed))
    assert [(s.index_start, s.index_stop) for s in sections] == [(0, 2), (3, 4), (4, 5)]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("chr1\t100\n", "expected at least 3 columns"),
        ("chr1\ta\t100\n", "start and end must be whole numbers"),
        ("chr1\t100\t100\n", "end 100 = start 100"),
        ("chr1\t0\t10\tx\nchr1\t20\t30\tx\n", "section name 'x' is already used on line 1"),
    ],
)
def test_bad_bed_lines_name_file_and_line(tmp_path, line, message):
    bed = tmp_path / "bad.bed"
    bed.write_text(line)
    with pytest.raises(DataError, match=message) as err:
        read_bed(bed)
    assert str(bed) in str(err.value) and "line" in str(err.value)


def test_parse_region():
    assert parse_region("22:16,000,001-17,000,000") == Region(
        "22_16000001-17000000", "22", 16_000_001, 17_000_000
    )
    whole = parse_region("HLA-A*01:01")  # a contig with ':' in its name
    assert whole.contig == "HLA-A*01:01" and whole.start == 1 and whole.label == "HLA-A*01:01"
    with pytest.raises(DataError, match="end >= start"):
        parse_region("1:200-100")
    with pytest.raises(DataError, match="start must be >= 1"):
        parse_region("1:0-100")


def test_whole_contig_region_reports_the_span_of_its_variants():
    chrom = np.array(["1", "1", "2"], dtype=object)
    (section,) = region_sections([parse_region("1")], chrom, np.array([5, 9, 1]))
    assert (section.name, section.start, section.end, section.n_variants) == ("1", 5, 9, 2)


def test_safe_names():
    assert safe_name(" .hidden/name with space ") == "_hidden_name_with_space"
    assert safe_name("HLA-DRB1") == "HLA-DRB1"
