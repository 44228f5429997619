"""Every way of reading a file gives the same records: text reader, htslib, BCF, region queries."""

import logging

import numpy as np
import pytest
from vcf_factory import (
    messy_vcf_text,
    structured_haplotypes,
    vcf_from_records,
    vcf_text,
    write_bcf,
    write_indexed,
    write_vcf,
)

from vae_genomics.common.errors import DataError
from vae_genomics.data.vcf import read_vcf


def _same(a, b) -> None:
    np.testing.assert_array_equal(np.asarray(a.haplotypes), np.asarray(b.haplotypes))
    np.testing.assert_array_equal(a.positions, b.positions)
    assert list(a.chrom) == list(b.chrom)
    assert list(a.ref) == list(b.ref) and list(a.alt) == list(b.alt)
    assert list(a.haplotype_ids) == list(b.haplotype_ids)
    assert a.filter_counts == b.filter_counts


@pytest.mark.parametrize("missing", ["drop-site", "impute-af"])
def test_text_reader_htslib_and_bcf_agree_on_a_messy_file(tmp_path, missing):
    text = messy_vcf_text()
    plain = write_vcf(tmp_path / "m.vcf", text)
    packed = write_indexed(tmp_path / "m.vcf.gz", text)
    bcf = write_bcf(tmp_path / "m.bcf", text)
    reads = [
        read_vcf(plain, missing=missing),
        read_vcf(packed, missing=missing, engine="text"),
        read_vcf(packed, missing=missing, engine="htslib"),
        read_vcf(bcf, missing=missing),
    ]
    for other in reads[1:]:
        _same(reads[0], other)
    counts = reads[0].filter_counts
    assert counts["multiallelic"] == 1 and counts["not_snp"] == 3
    assert counts["monomorphic"] == 2  # the record without ALT and the all-REF site
    assert counts["missing_calls"] == 3  # '.|.', '1|.' and the haploid '.'
    assert counts["missing_dropped"] == (3 if missing == "drop-site" else 0)


def test_region_queries_through_tbi_and_csi_indexes_and_without_one(tmp_path, caplog):
    hap, _ = structured_haplotypes(n_samples=6, n_variants=50)
    text = vcf_text(hap)
    whole = read_vcf(write_vcf(tmp_path / "w.vcf", text))
    expected = whole.select_variants(10, 21)  # positions 1100..2100
    for name, csi in (("t.vcf.gz", False), ("c.vcf.gz", True)):
        path = write_indexed(tmp_path / name, text, csi=csi)
        assert (tmp_path / (name + (".csi" if csi else ".tbi"))).is_file()
        with caplog.at_level(logging.WARNING):
            got = read_vcf(path, region="1:1050-2100").select_variants(0, 11)
        assert "no index" not in caplog.text
        np.testing.assert_array_equal(got.haplotypes, expected.haplotypes)
        np.testing.assert_array_equal(got.positions, np.arange(11, 22) * 100)
    unindexed = write_vcf(tmp_path / "u.vcf.gz", text)
    with caplog.at_level(logging.WARNING):
        got = read_vcf(unindexed, region="1:1050-2100").select_variants(0, 11)
    assert "no index (.tbi/.csi) next to the file" in caplog.text and "tabix -p vcf" in caplog.text
    np.testing.assert_array_equal(got.haplotypes, expected.haplotypes)


def test_region_counts_only_records_starting_inside(tmp_path):
    calls = ["0|1", "1|0"]
    records = [("1", 95, "ACGTACGTAC", "A", calls), ("1", 100, "A", "G", calls)]  # 95 spans 100
    text = vcf_from_records(["A", "B"], records)
    packed = write_indexed(tmp_path / "o.vcf.gz", text)
    for engine in ("text", "htslib"):
        matrix = read_vcf(packed, region="1:100-200", engine=engine)
        assert matrix.filter_counts["records_read"] == 1 and matrix.n_variants == 1


def test_large_file_spans_several_chunks_and_batches(tmp_path, monkeypatch):
    from vae_genomics.data import inflate

    monkeypatch.setattr(inflate, "CHUNK", 2048)  # many small chunks through the same code
    hap, _ = structured_haplotypes(n_samples=30, n_variants=400)
    text = vcf_text(hap)
    path = write_indexed(tmp_path / "big.vcf.gz", text)
    small_chunks = read_vcf(path, engine="text")
    np.testing.assert_array_equal(small_chunks.haplotypes, hap)
    _same(small_chunks, read_vcf(path, engine="htslib"))


def test_counting_only_keeps_no_genotypes(tmp_path):
    hap, _ = structured_haplotypes(n_samples=6, n_variants=40)
    path = write_vcf(tmp_path / "a.vcf", vcf_text(hap))
    counted = read_vcf(path, genotypes=False)
    assert counted.haplotypes.shape == (12, 0)
    np.testing.assert_array_equal(counted.positions, read_vcf(path).positions)


def test_unindexed_region_reads_stop_after_the_region(tmp_path, monkeypatch):
    from vae_genomics.data import inflate

    monkeypatch.setattr(inflate, "CHUNK", 1024)
    hap, _ = structured_haplotypes(n_samples=6, n_variants=300)
    positions = np.tile(np.arange(1, 101) * 100, 3)
    text = vcf_text(hap, positions=positions, contig=["1"] * 100 + ["2"] * 100 + ["3"] * 100)
    path = write_vcf(tmp_path / "u.vcf", text)
    bcf = write_bcf(tmp_path / "u.bcf", text, index=False)
    expected = read_vcf(path).select_variants(110, 120)
    for source in (path, bcf):
        got = read_vcf(source, region="2:1100-2000")
        np.testing.assert_array_equal(got.select_variants(0, 10).haplotypes, expected.haplotypes)
        assert got.filter_counts["records_read"] == 10
    # the text reader stopped at contig 3: a broken record there goes unnoticed
    broken = text.replace("3\t10000\t", "3\tthirty\t")
    assert broken != text
    assert read_vcf(write_vcf(tmp_path / "b.vcf", broken), region="2:1100-2000").n_variants == 10


def test_crlf_line_ends_and_blank_lines(tmp_path):
    hap, _ = structured_haplotypes(n_samples=4, n_variants=12)
    text = vcf_text(hap)
    windows = write_vcf(tmp_path / "crlf.vcf", text.replace("\n", "\r\n") + "\r\n")
    padded = write_vcf(tmp_path / "blank.vcf", text + "\n\n")
    np.testing.assert_array_equal(read_vcf(windows).haplotypes, hap)
    np.testing.assert_array_equal(read_vcf(padded).haplotypes, hap)


def test_missing_bgzf_end_marker_is_an_error_unless_allowed(tmp_path, caplog):
    from vae_genomics.data.vcf import VcfSource

    hap, _ = structured_haplotypes(n_samples=4, n_variants=12)
    path = write_vcf(tmp_path / "noeof.vcf.gz", vcf_text(hap))
    path.write_bytes(path.read_bytes()[:-28])  # drop the empty end-of-file block
    for engine in ("text", "htslib"):
        with pytest.raises(DataError, match=r"no BGZF end-of-file marker.*allow_truncated"):
            read_vcf(path, engine=engine)
    with caplog.at_level(logging.WARNING):
        source = VcfSource(path, "text", allow_truncated=True)
        np.testing.assert_array_equal(read_vcf(source).haplotypes, hap)
    assert "no BGZF end-of-file marker; the file may be truncated" in caplog.text
