"""Reading a VCF at a run's sites (``encode --vcf``, ``evaluate --synthetic``): bad calls, records
and indexes each get their own message (file, record, sample, what to do), through the text
reader, through htslib and an index, and from BCF (issue 32)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from vcf_factory import vcf_from_records, vcf_text, write_bcf, write_indexed

from vae_genomics.common.errors import DataError
from vae_genomics.data.at_sites import read_section_haplotypes

SAMPLES = ["S1", "S2", "S3"]
SITES = np.array([101, 202, 303])
REF, ALT = ["A", "C", "G"], ["G", "T", "A"]


def _records(bad_call: list[str], *extra: tuple) -> list[tuple]:
    """Three good sites, the middle one's calls replaced by ``bad_call``."""
    return [
        ("22", 101, "A", "G", ["0|1", "1|1", "0|0"]),
        ("22", 202, "C", "T", bad_call),
        *extra,
        ("22", 303, "G", "A", ["1|0", "0|0", "0|1"]),
    ]


def _write(tmp_path: Path, text: str, kind: str) -> Path:
    """The VCF as plain text (text reader), bgzipped with a tabix index (htslib), or BCF."""
    if kind == "vcf":
        path = tmp_path / "in.vcf"
        path.write_text(text)
        return path
    if kind == "indexed":
        return write_indexed(tmp_path / "in.vcf.gz", text)
    return write_bcf(tmp_path / "in.bcf", text)


def _read(path: Path, positions=SITES, ref=REF, alt=ALT):
    return read_section_haplotypes(path, "22", positions, ref, alt)


KINDS = ["vcf", "indexed", "bcf"]


@pytest.mark.parametrize("kind", KINDS)
def test_good_file_reads_every_site(tmp_path, kind):
    path = _write(tmp_path, vcf_from_records(SAMPLES, _records(["0|0", "0|1", "1|1"]), ("22",)),
                  kind)  # fmt: skip
    got = _read(path)
    np.testing.assert_array_equal(got.haplotypes[:, 1], [0, 0, 0, 1, 1, 1])
    assert got.haplotype_ids.tolist()[:2] == ["S1_A", "S1_B"]


# htslib refuses to write allele index 9 of a biallelic record into BCF, so that case has no file
@pytest.mark.parametrize(
    ("kind", "call", "index", "column"),
    [(kind, "2|0", 2, 1) for kind in KINDS] + [("vcf", "9|9", 9, 1), ("indexed", "9|9", 9, 1)],
)
def test_allele_index_beyond_the_alt_allele_is_refused(tmp_path, kind, call, index, column):
    text = vcf_from_records(SAMPLES, _records([call, "0|1", "0|0"]), ("22",))
    with pytest.raises(DataError) as caught:
        _read(_write(tmp_path, text, kind))
    message = str(caught.value)
    assert f"in.{'bcf' if kind == 'bcf' else 'vcf'}" in message
    assert f"record 22:202 has allele index {index} in sample column {column}" in message
    assert "one ALT allele" in message


@pytest.mark.parametrize("kind", ["vcf", "indexed"])
@pytest.mark.parametrize(
    "calls", [["0|1|1", "0/1", "0|0"], ["0/1", "0|1|1", "0|0"], ["0|0", "1/0|1", "1|1"]]
)
def test_a_call_with_three_alleles_is_refused_beside_an_unphased_one(tmp_path, kind, calls):
    text = vcf_from_records(SAMPLES, _records(calls), ("22",))
    column = next(i for i, c in enumerate(calls) if c.count("|") + c.count("/") > 1) + 1
    with pytest.raises(DataError, match=f"record 22:202 has a call with more than two alleles in "
                       f"sample column {column}"):  # fmt: skip
        _read(_write(tmp_path, text, kind))


@pytest.mark.parametrize("kind", KINDS)
def test_an_unphased_heterozygous_call_is_still_caught(tmp_path, kind):
    text = vcf_from_records(SAMPLES, _records(["0|1", "1/1", "1/0"]), ("22",))
    with pytest.raises(DataError) as caught:
        _read(_write(tmp_path, text, kind))
    assert "record 22:202 has an unphased heterozygous call '1/0' for sample 'S3'" in str(
        caught.value
    )
    assert "phase the file first" in str(caught.value)


@pytest.mark.parametrize("kind", ["vcf", "indexed"])
def test_a_call_with_an_empty_allele_is_malformed_not_truncation(tmp_path, kind):
    text = vcf_from_records(SAMPLES, _records(["0|1", "0||1", "0|0"]), ("22",))
    with pytest.raises(DataError) as caught:
        _read(_write(tmp_path, text, kind))
    message = str(caught.value)
    assert "record 22:202 has the malformed call b'0||1' in sample column 2" in message
    assert "truncated" not in message


@pytest.mark.parametrize("kind", KINDS)
def test_a_haploid_call_has_its_own_message(tmp_path, kind):
    text = vcf_from_records(SAMPLES, _records(["0|1", "1", "0|0"]), ("22",))
    with pytest.raises(DataError) as caught:
        _read(_write(tmp_path, text, kind))
    message = str(caught.value)
    assert "record 22:202 has a haploid call '1' for sample 'S2'" in message
    assert "must be diploid" in message and "fixploidy" in message
    assert "truncated" not in message and "missing" not in message


@pytest.mark.parametrize("kind", KINDS)
def test_a_record_without_gt_has_its_own_message(tmp_path, kind):
    records = _records(["7", "8", "9"])
    records[1] = (*records[1], "DP")
    text = vcf_from_records(SAMPLES, records, ("22",))
    with pytest.raises(DataError) as caught:
        _read(_write(tmp_path, text, kind))
    message = str(caught.value)
    assert "record 22:202 has no GT field (its FORMAT column lacks GT)" in message
    assert "truncated" not in message


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("call", [".|.", "./.", "0|.", "."])
def test_a_missing_call_is_named_as_missing(tmp_path, kind, call):
    text = vcf_from_records(SAMPLES, _records(["0|1", "0|0", call]), ("22",))
    with pytest.raises(DataError) as caught:
        _read(_write(tmp_path, text, kind))
    message = str(caught.value)
    assert f"record 22:202 has a missing call '{call}' for sample 'S3'" in message
    assert "impute the file first" in message


@pytest.mark.parametrize("kind", ["vcf", "indexed"])
def test_a_bad_position_is_named_with_its_line(tmp_path, kind):
    text = vcf_from_records(SAMPLES, _records(["0|1", "0|0", "1|1"]), ("22",))
    path = _write(tmp_path, text, kind)  # (tabix refuses to index the damaged file)
    damaged = text.replace("22\t202\t", "22\t2o2\t")
    if kind == "vcf":
        path.write_text(damaged)
    else:  # damaged after indexing: htslib stops on it, the message comes from the text reader
        import pysam

        plain = tmp_path / "damaged.vcf"
        plain.write_text(damaged)
        pysam.tabix_compress(str(plain), str(path), force=True)
        os.utime(f"{path}.tbi")
    with pytest.raises(DataError) as caught:
        _read(path)
    message = str(caught.value)
    assert "line 7: POS b'2o2' is not a whole number" in message
    assert "truncated" not in message and "missing" not in message


def _with_ids(text: str, ids: list[str]) -> str:
    lines = text.splitlines(keepends=True)
    body = [i for i, line in enumerate(lines) if not line.startswith("#")]
    for i, rid in zip(body, ids, strict=True):
        fields = lines[i].split("\t")
        fields[2] = rid
        lines[i] = "\t".join(fields)
    return "".join(lines)


@pytest.mark.parametrize("kind", KINDS)
def test_two_records_of_a_site_with_different_calls_are_both_named(tmp_path, kind):
    second = ("22", 202, "C", "T", ["0|1", "1|1", "0|0"])
    text = vcf_from_records(SAMPLES, _records(["0|1", "0|1", "0|0"], second), ("22",))
    text = _with_ids(text, ["rs1", "rs2a", "rs2b", "rs3"])
    with pytest.raises(DataError) as caught:
        _read(_write(tmp_path, text, kind))
    message = str(caught.value)
    assert "two records at 22:202 C>T (ID 'rs2a', then ID 'rs2b') have different calls" in message
    assert "sample 'S2': '0|1' then '1|1'" in message and "bcftools norm -d exact" in message


@pytest.mark.parametrize("kind", KINDS)
def test_a_repeated_record_with_the_same_calls_is_read_once(tmp_path, kind):
    second = ("22", 202, "C", "T", ["0|1", "1|1", "0|0"])
    text = vcf_from_records(SAMPLES, _records(second[4], second), ("22",))
    got = _read(_write(tmp_path, text, kind))
    np.testing.assert_array_equal(got.haplotypes[:, 1], [0, 1, 1, 1, 0, 0])


def _cohort(tmp_path: Path, name: str, n_variants: int, start: int, seed: int, n: int = 20) -> Path:
    rng = np.random.default_rng(seed)
    hap = rng.integers(0, 2, (n, n_variants), dtype=np.int8)
    positions = start + 37 * np.arange(n_variants)
    return write_indexed(tmp_path / name, vcf_text(hap, positions=positions, contig="22"))


def test_an_index_of_another_file_is_named_instead_of_every_site_missing(tmp_path):
    path = _cohort(tmp_path, "a.vcf.gz", 1000, 100, 0)
    sites = 100 + 37 * np.arange(200, 600)
    assert _read(path, sites, ["A"] * 400, ["G"] * 400).haplotypes.shape == (20, 400)
    # b's records are larger (more samples): its index points past a's records of the region
    for other in (_cohort(tmp_path, "b.vcf.gz", 1000, 100, 1, n=200), tmp_path / "chr.vcf.gz"):
        if not other.exists():  # the same data, contig named chr22
            text = vcf_text(np.zeros((4, 50), np.int8), contig="chr22")
            write_indexed(other, text)
        shutil.copy(f"{other}.tbi", f"{path}.tbi")  # a newer index, of another file
        with pytest.raises(DataError) as caught:
            _read(path, sites, ["A"] * 400, ["G"] * 400)
        message = str(caught.value)
        assert message.startswith(f"{path}.tbi: reading 22:")
        assert "found 0 of the section's sites where a scan of a.vcf.gz finds 400" in message
        assert "does not belong to this file" in message and "tabix -f -p vcf" in message
        assert "sites are missing" not in message


def test_an_index_older_than_its_file_is_refused(tmp_path):
    path = _cohort(tmp_path, "a.vcf.gz", 100, 100, 0)
    stamp = os.stat(path).st_mtime
    os.utime(f"{path}.tbi", (stamp - 600, stamp - 600))
    with pytest.raises(DataError, match=r"a\.vcf\.gz\.tbi: the index is 600 s older .*tabix -f"):
        _read(path, np.array([100]), ["A"], ["G"])


def test_records_out_of_order_are_refused(tmp_path):
    records = _records(["0|1", "0|0", "1|1"])
    records[0], records[1] = records[1], records[0]
    path = _write(tmp_path, vcf_from_records(SAMPLES, records, ("22",)), "vcf")
    with pytest.raises(DataError, match=r"record 22:101 comes after position 202 .* not sorted"):
        _read(path)
