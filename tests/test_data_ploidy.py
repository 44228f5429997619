"""Haploid calls: one row per sample where it is haploid, mixed ploidy resolved per section."""

import numpy as np
import pytest
from vcf_factory import messy_vcf_text, vcf_from_records, write_vcf

from vae_genomics.config import DataConfig
from vae_genomics.data import load_section


@pytest.fixture
def messy(tmp_path):
    path = write_vcf(tmp_path / "m.vcf", messy_vcf_text())
    populations = tmp_path / "pops.tsv"
    populations.write_text("sample\tpopulation\nF1\tA\nM1\tB\nF2\tA\nM2\tB\n")
    return DataConfig(
        vcf=path, populations=populations, min_maf=0.0, missing="impute-af",
        sections="regions", regions=["X:1000-3000", "X:1-3000"],
    )  # fmt: skip


def _rows(data) -> dict[str, list[int]]:
    return {
        h: row.tolist()
        for h, row in zip(data.matrix.haplotype_ids, data.matrix.haplotypes, strict=True)
    }


def test_haploid_stretch_gives_one_row_per_male(messy):
    data = load_section(messy, "X_1000-3000")  # records 2000, 2100, 2200: males haploid
    assert list(data.matrix.haplotype_ids) == ["F1_A", "F1_B", "M1_A", "F2_A", "F2_B", "M2_A"]
    rows = _rows(data)
    assert rows["M1_A"] == [1, 0, 1] and rows["F1_B"] == [1, 1, 0]
    assert rows["M2_A"][0] == 0 and rows["M2_A"][2] == 1 and rows["M2_A"][1] in (0, 1)
    assert list(data.populations) == ["A", "A", "B", "A", "A", "B"]
    counts = data.matrix.filter_counts
    assert counts["haploid_samples"] == 2 and counts["haploid_filled"] == 0
    assert counts["imputed_calls"] == 1 and counts["haploid_calls"] == 5
    assert data.matrix.haplotypes.dtype == np.int8 and data.matrix.haplotypes.flags.c_contiguous


def test_section_with_diploid_records_keeps_two_rows_and_fills_haploid_calls(messy):
    data = load_section(messy, "X_1-3000")  # adds the pseudo-autosomal record at 500
    assert len(data.matrix.haplotype_ids) == 8
    rows = _rows(data)
    assert rows["M1_A"] == [1, 1, 0, 1] and rows["M1_B"] == [0, 1, 0, 1]
    assert rows["M2_A"][::3] == [0, 1] and rows["M2_B"][::3] == [0, 1]
    counts = data.matrix.filter_counts
    assert counts["haploid_filled"] == 5 and counts["haploid_samples"] == 0
    assert counts["imputed_calls"] == 2  # M2's '.' is missing in both of its rows
    assert set(np.unique(data.matrix.haplotypes)) <= {0, 1}


def test_haploid_only_contig_and_sample_rows_across_contigs(tmp_path):
    samples = ["S1", "S2", "S3"]
    records = [
        ("1", 10, "A", "G", ["0|1", "1|1", "0|0"]),
        ("1", 20, "A", "G", ["1|0", "0|1", "0|0"]),
        ("Y", 10, "A", "G", ["1", "0", "1"]),
        ("Y", 20, "C", "T", ["0", "0", "1"]),
    ]
    path = write_vcf(tmp_path / "y.vcf", vcf_from_records(samples, records, ("1", "Y")))
    config = DataConfig(vcf=path, populations=None, min_maf=0.0, window_snps=2)
    autosome, chr_y = load_section(config, "1_10-20"), load_section(config, "Y_10-20")
    assert len(autosome.matrix.haplotype_ids) == 6
    assert list(chr_y.matrix.haplotype_ids) == ["S1_A", "S2_A", "S3_A"]
    np.testing.assert_array_equal(chr_y.matrix.haplotypes, [[1, 0], [0, 0], [1, 1]])
