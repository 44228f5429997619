"""Data-loss paths: nothing the program did not write is ever replaced or deleted."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from vcf_factory import structured_haplotypes, vcf_text, write_vcf

from vae_genomics import cli


@pytest.fixture
def small_vcf(tmp_path: Path) -> Path:
    hap, _ = structured_haplotypes(n_samples=6, n_variants=30)
    return write_vcf(tmp_path / "x.vcf", vcf_text(hap))


def test_cache_overwrite_never_deletes_a_directory_holding_the_vcf(tmp_path, small_vcf, caplog):
    folder = tmp_path / "d"
    folder.mkdir()
    vcf = Path(shutil.copy(small_vcf, folder / "x.vcf"))
    assert cli.main(["cache", str(vcf), "--out", str(folder), "--overwrite"]) == 2
    assert vcf.is_file() and "never replaced" in caplog.text


def test_cache_overwrite_refuses_a_foreign_directory_and_a_plain_file(tmp_path, small_vcf, caplog):
    foreign = tmp_path / "results"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("precious")
    assert cli.main(["cache", str(small_vcf), "--out", str(foreign), "--overwrite"]) == 2
    assert (foreign / "keep.txt").read_text() == "precious"
    assert "not a vae-genomics cache" in caplog.text
    plain = tmp_path / "notes.vcz"
    plain.write_text("precious")
    assert cli.main(["cache", str(small_vcf), "--out", str(plain), "--overwrite"]) == 2
    assert plain.read_text() == "precious" and not list(tmp_path.glob(".*old"))
    assert "not a directory" in caplog.text


def test_cache_overwrite_replaces_its_own_cache_and_an_empty_directory(tmp_path, small_vcf):
    empty = tmp_path / "empty.vcz"
    empty.mkdir()
    assert cli.main(["cache", str(small_vcf), "--out", str(empty)]) == 0
    hap, _ = structured_haplotypes(n_samples=4, n_variants=20)
    other = write_vcf(tmp_path / "other.vcf", vcf_text(hap))
    assert cli.main(["cache", str(other), "--out", str(empty)]) == 2  # without --overwrite
    assert cli.main(["cache", str(other), "--out", str(empty), "--overwrite"]) == 0
    meta = json.loads((empty / ".zattrs").read_text())["vae_genomics"]
    assert meta["vcf"]["size"] == other.stat().st_size
