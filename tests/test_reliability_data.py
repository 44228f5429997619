"""Silently wrong data made loud: truncated bgzip files, stale indexes, duplicates, bad sample IDs."""

from __future__ import annotations

import logging
import os
import struct
from pathlib import Path

import pytest
import yaml
from vcf_factory import structured_haplotypes, vcf_text, write_indexed, write_vcf

from vae_genomics import cli


def _blocks(data: bytes) -> list[int]:
    """Start offsets of the BGZF blocks of ``data`` (each gives its size at byte 16)."""
    offsets, offset = [], 0
    while offset < len(data):
        offsets.append(offset)
        offset += struct.unpack_from("<H", data, offset + 16)[0] + 1
    return offsets


@pytest.fixture
def big_bgzf(tmp_path) -> Path:
    hap, _ = structured_haplotypes(n_samples=50, n_variants=3000)
    return write_vcf(tmp_path / "big.vcf.gz", vcf_text(hap))


def test_a_bgzip_file_cut_at_a_block_boundary_is_an_error_unless_allowed(
    tmp_path, big_bgzf, caplog, capsys
):
    data = big_bgzf.read_bytes()
    blocks = _blocks(data)
    assert len(blocks) > 4
    cut = tmp_path / "cut.vcf.gz"
    cut.write_bytes(data[: blocks[len(blocks) // 2]])  # decompresses cleanly: half the records
    assert cli.main(["sections", "--vcf", str(cut), "--window-snps", "500"]) == 2
    assert "cut.vcf.gz: no BGZF end-of-file marker" in caplog.text
    assert "data.allow_truncated" in caplog.text
    capsys.readouterr()
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"data": {"allow_truncated": True, "populations": None}}))
    caplog.clear()
    argv = ["sections", "--config", str(config), "--vcf", str(cut), "--window-snps", "500"]
    assert cli.main(argv) == 0
    assert "may be truncated" in caplog.text
    n_kept = sum(int(row.split("\t")[4]) for row in capsys.readouterr().out.splitlines()[1:])
    assert 0 < n_kept < 3000


@pytest.mark.parametrize("fraction", [0.3, 0.6, 0.9])
def test_a_bgzip_file_cut_inside_a_block_is_an_error(tmp_path, big_bgzf, caplog, fraction):
    data = big_bgzf.read_bytes()
    cut = tmp_path / "cut.vcf.gz"
    cut.write_bytes(data[: int(len(data) * fraction)])
    assert cli.main(["sections", "--vcf", str(cut), "--window-snps", "500"]) == 2
    assert "cut.vcf.gz" in caplog.text and "truncated" in caplog.text


def test_an_index_older_than_its_file_is_refused(tmp_path, caplog):
    hap, _ = structured_haplotypes(n_samples=10, n_variants=60)
    path = write_indexed(tmp_path / "x.vcf.gz", vcf_text(hap))
    index = Path(f"{path}.tbi")
    region = ["sections", "--vcf", str(path), "--region", "1:100-3000"]
    assert cli.main(region) == 0
    stamp = index.stat().st_mtime
    os.utime(index, (stamp - 3600, stamp - 3600))  # the VCF was rewritten after indexing
    assert cli.main(region) == 2
    assert "x.vcf.gz.tbi: the index is 3600 s older" in caplog.text and "tabix -f" in caplog.text
    os.utime(index, (stamp + 1, stamp + 1))  # re-indexed
    assert cli.main(region) == 0


def test_duplicate_records_and_positions_are_counted_and_warned(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    hap, _ = structured_haplotypes(n_samples=10, n_variants=30)
    lines = vcf_text(hap).rstrip("\n").split("\n")
    body = [i for i, line in enumerate(lines) if not line.startswith("#")]
    dup = lines[body[5]]
    same_pos = lines[body[9]].replace("\tA\tG\t", "\tA\tT\t")  # another SNP at the same position
    lines.insert(body[5] + 1, dup)
    lines.insert(body[9] + 2, same_pos)
    path = tmp_path / "dup.vcf"
    path.write_text("\n".join(lines) + "\n")
    assert cli.main(["sections", "--vcf", str(path), "--window-snps", "100"]) == 0
    assert "dup.vcf: 2 records repeat the position of the record before them" in caplog.text
    assert "(2 among the kept SNPs" in caplog.text and "bcftools norm" in caplog.text
    caplog.clear()
    hap, _ = structured_haplotypes(n_samples=10, n_variants=30)
    clean = write_vcf(tmp_path / "clean.vcf", vcf_text(hap))
    assert cli.main(["sections", "--vcf", str(clean), "--window-snps", "100"]) == 0
    assert "repeat the position" not in caplog.text


def test_non_utf8_sample_ids_are_an_error_not_mangled(tmp_path, caplog):
    hap, _ = structured_haplotypes(n_samples=4, n_variants=20)
    text = vcf_text(hap, samples=["S0", "S1", "S2", "SAMPLE_X"])
    path = tmp_path / "latin.vcf"
    path.write_bytes(text.encode().replace(b"SAMPLE_X", b"Jos\xe9"))
    assert cli.main(["sections", "--vcf", str(path)]) == 2
    assert "latin.vcf: 1 sample IDs" in caplog.text and "not UTF-8" in caplog.text
