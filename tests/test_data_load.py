"""Loading sections: scoped reads equal whole reads, the sections table, the CLI and training."""

import json

import numpy as np
import pandas as pd
import pytest
import yaml
from vcf_factory import structured_haplotypes, vcf_text, write_indexed, write_vcf

from vae_genomics.cli import main
from vae_genomics.common.errors import DataError
from vae_genomics.config import DataConfig
from vae_genomics.data import list_sections, load_section, section_table


@pytest.fixture
def two_contigs(tmp_path):
    """Contigs 21 and 22, 50 SNPs each at positions 1,000..50,000, bgzipped and indexed."""
    hap, _ = structured_haplotypes(n_samples=8, n_variants=100, seed=5)
    positions = np.tile(np.arange(1, 51) * 1000, 2)
    text = vcf_text(hap, positions=positions, contig=["21"] * 50 + ["22"] * 50)
    return {
        "indexed": write_indexed(tmp_path / "two.vcf.gz", text),
        "plain": write_vcf(tmp_path / "two.vcf", text),
        "hap": hap,
    }


def _where(section):
    return section.name, section.contig, section.start, section.end, section.n_variants


@pytest.mark.parametrize(
    "settings",
    [
        {"window_snps": 20},
        {"sections": "bp-windows", "window_bp": 10_000},
        {"sections": "regions", "regions": ["22:5000-14000", "21"]},
    ],
)
def test_scoped_reads_give_the_same_sections_as_whole_reads(two_contigs, settings):
    indexed = DataConfig(vcf=two_contigs["indexed"], populations=None, min_maf=0.0, **settings)
    plain = indexed.model_copy(update={"vcf": two_contigs["plain"]})
    _, sections = list_sections(plain)
    assert {s.contig for s in sections} == {"21", "22"}
    for section in sections:
        a, b = load_section(indexed, section.name), load_section(plain, section.name)
        # index ranges are relative to what was read (the region or contig): compare the rest
        assert _where(a.section) == _where(b.section) == _where(section)
        np.testing.assert_array_equal(a.matrix.haplotypes, b.matrix.haplotypes)
        assert a.matrix.filter_counts == b.matrix.filter_counts
        first = section.index_start
        expected = two_contigs["hap"][:, first : first + section.n_variants]
        np.testing.assert_array_equal(a.matrix.haplotypes, expected)


def test_default_and_unknown_sections(two_contigs):
    config = DataConfig(vcf=two_contigs["indexed"], populations=None, min_maf=0.0, window_snps=25)
    assert load_section(config).section.name == "21_1000-25000"
    with pytest.raises(DataError) as err:
        load_section(config, "22_26000-50001")
    message = str(err.value)
    assert "unknown section '22_26000-50001' (4 sections defined)" in message
    assert "22_26000-50000" in message


def test_section_table_counts_records_before_and_after_filtering(tmp_path):
    hap, _ = structured_haplotypes(n_samples=10, n_variants=8)
    extra = [
        "1\t850\t.\tA\tG,T\t.\tPASS\t.\tGT\t" + "\t".join(["0|1"] * 5 + ["2|0"] * 5),
        "1\t860\t.\tC\tT\t.\tPASS\t.\tGT\t" + "\t".join(["0|0"] * 10),
    ]
    path = write_vcf(tmp_path / "t.vcf", vcf_text(hap, extra_records=extra))
    config = DataConfig(vcf=path, populations=None, min_maf=0.0, window_snps=4)
    matrix, sections = list_sections(config, genotypes=False)
    rows = section_table(matrix, sections)
    assert [(r["name"], r["n_variants"], r["n_records"]) for r in rows] == [
        ("1_100-400", 4, 4),
        ("1_500-800", 4, 4),
    ]
    bp = config.model_copy(update={"sections": "bp-windows", "window_bp": 500})
    matrix, sections = list_sections(bp, genotypes=False)
    last = section_table(matrix, sections)[-1]
    assert (last["name"], last["n_variants"], last["n_records"]) == ("1_501-1000", 3, 5)
    assert last["multiallelic"] == 1 and last["monomorphic"] == 1


def test_sections_command_with_bed_regions_and_bp_windows(two_contigs, tmp_path, capsys):
    vcf = str(two_contigs["indexed"])
    bed = tmp_path / "s.bed"
    bed.write_text("21\t0\t10000\tfirst\n22\t19999\t30000\n")
    out = tmp_path / "s.tsv"
    assert (
        main(["sections", "--vcf", vcf, "--bed", str(bed), "--min-maf", "0", "--out", str(out)])
        == 0
    )
    table = pd.read_csv(out, sep="\t")
    assert list(table["name"]) == ["first", "22_20000-30000"]
    assert list(table["start"]) == [1, 20000] and list(table["end"]) == [10000, 30000]
    assert list(table["n_variants"]) == [10, 11] and list(table["n_records"]) == [10, 11]
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("name\tcontig\tstart\tend\tn_variants\tn_records")
    assert main(["sections", "--vcf", vcf, "--region", "22:1-5000", "--min-maf", "0"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("name\tcontig\tstart\tend\tn_variants\tn_records\tmultiallelic")
    assert printed[1].startswith("22_1-5000\t22\t1\t5000\t5\t5\t0")
    assert (
        main(["sections", "--vcf", vcf, "--window-bp", "25000", "--names", "--min-maf", "0"]) == 0
    )
    assert capsys.readouterr().out.split() == [
        "21_1-25000", "21_25001-50000", "22_1-25000", "22_25001-50000",
    ]  # fmt: skip


@pytest.mark.slow  # imports TensorFlow (training.prepare)
def test_cache_command_and_training_data_from_the_cache(two_contigs, tmp_path, capsys):
    from vae_genomics.train.fit import prepare

    cache = tmp_path / "two.vcz"
    assert main(["cache", str(two_contigs["indexed"]), "--out", str(cache)]) == 0
    assert capsys.readouterr().out.strip() == f"cache: {cache}"
    config = tmp_path / "c.yaml"
    data = {"vcf": str(two_contigs["indexed"]), "populations": None, "min_maf": 0.0}
    config.write_text(yaml.safe_dump({"data": {**data, "window_snps": 25}}))
    _, from_vcf = prepare(config, "22_26000-50000")
    _, from_cache = prepare(config, "22_26000-50000", {"data": {"cache": str(cache)}})
    np.testing.assert_array_equal(from_vcf.matrix.haplotypes, from_cache.matrix.haplotypes)
    assert from_vcf.matrix.filter_counts == from_cache.matrix.filter_counts
    assert list(from_vcf.matrix.haplotype_ids) == list(from_cache.matrix.haplotype_ids)


@pytest.mark.slow
def test_training_from_the_cache_gives_the_same_run(tiny_config, tmp_path):
    config = yaml.safe_load(tiny_config.read_text())
    cache = tmp_path / "tiny.vcz"
    assert main(["cache", config["data"]["vcf"], "--out", str(cache)]) == 0
    args = ["train", "--config", str(tiny_config), "--section", "1_100-5000", "--epochs", "1"]
    assert main([*args, "--run-name", "vcf"]) == 0
    config["data"]["cache"] = str(cache)
    tiny_config.write_text(yaml.safe_dump(config))
    assert main([*args, "--run-name", "cache"]) == 0
    runs = tmp_path / "runs" / "1_100-5000"
    latent = [pd.read_csv(runs / r / "latent.tsv", sep="\t") for r in ("vcf", "cache")]
    pd.testing.assert_frame_equal(latent[0], latent[1])
    metrics = [json.loads((runs / r / "metrics.json").read_text()) for r in ("vcf", "cache")]
    assert metrics[0]["filters"] == metrics[1]["filters"]
    assert metrics[0]["filters"]["kept"] == 50


def test_cache_command_needs_an_output(tmp_path, caplog):
    assert main(["cache", str(tmp_path / "x.vcf.gz")]) == 2
    assert "cache: give --out DIR (or set data.cache in the --config file)" in caplog.text
