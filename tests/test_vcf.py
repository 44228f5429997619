"""VCF reading: values, filters with counts, and errors that name the record and sample."""

import numpy as np
import pytest
from vcf_factory import HEADER, structured_haplotypes, vcf_text, write_gzip, write_vcf

from vae_genomics.data.vcf import read_populations, read_vcf
from vae_genomics.errors import DataError


def _bad_record(gts: str, pos: int = 99999, ref: str = "A", alt: str = "G") -> str:
    return f"1\t{pos}\t.\t{ref}\t{alt}\t.\tPASS\t.\tGT\t{gts}"


def test_reads_haplotypes_in_row_order_with_ids(tmp_path):
    hap, _ = structured_haplotypes(n_samples=6, n_variants=10)
    path = write_vcf(tmp_path / "a.vcf", vcf_text(hap))
    matrix = read_vcf(path)
    assert matrix.haplotypes.dtype == np.int8
    np.testing.assert_array_equal(matrix.haplotypes, hap)
    assert list(matrix.haplotype_ids[:4]) == ["S000_A", "S000_B", "S001_A", "S001_B"]
    assert list(matrix.haplotype_samples[:3]) == ["S000", "S000", "S001"]
    np.testing.assert_array_equal(matrix.positions, np.arange(1, 11) * 100)
    assert matrix.contigs == ["1"]
    assert list(matrix.ref[:2]) == ["A", "A"] and list(matrix.alt[:2]) == ["G", "G"]


def test_bgzipped_vcf_gives_the_same_matrix(tmp_path):
    hap, _ = structured_haplotypes(n_samples=5, n_variants=12)
    text = vcf_text(hap)
    plain = read_vcf(write_vcf(tmp_path / "a.vcf", text))
    packed = read_vcf(write_vcf(tmp_path / "b.vcf.gz", text))
    np.testing.assert_array_equal(plain.haplotypes, packed.haplotypes)


def test_filters_are_counted(tmp_path):
    # 10 samples = 20 haplotypes, 8 sites at MAF 0.5; extra records: multi-allelic, indel,
    # monomorphic, and a singleton (MAF 0.05)
    hap = (np.add.outer(np.arange(20), np.arange(8)) % 2).astype(np.int8)
    ones = "\t".join(["0|0"] * 9 + ["0|1"])
    extra = [
        "1\t90001\t.\tA\tG,T\t.\tPASS\t.\tGT\t" + "\t".join(["0|1"] * 5 + ["2|0"] * 5),
        "1\t90002\t.\tAT\tA\t.\tPASS\t.\tGT\t" + "\t".join(["0|1"] * 10),
        "1\t90003\t.\tC\tT\t.\tPASS\t.\tGT\t" + "\t".join(["0|0"] * 10),
        "1\t90004\t.\tC\tT\t.\tPASS\t.\tGT\t" + ones,  # MAF = 1/20 = 0.05
    ]
    path = write_vcf(tmp_path / "f.vcf", vcf_text(hap, extra_records=extra))
    kept_all = read_vcf(path, min_maf=0.0)
    assert kept_all.n_variants == 9
    counts = read_vcf(path, min_maf=0.06).filter_counts
    assert counts == {
        "records_read": 12,
        "multiallelic": 1,
        "not_snp": 1,
        "monomorphic": 1,
        "below_min_maf": 1,
        "kept": 8,
    }


def test_missing_genotype_names_record_and_sample(tmp_path):
    hap, _ = structured_haplotypes(n_samples=3, n_variants=4)
    extra = [_bad_record("0|1\t.|.\t1|1")]
    path = write_vcf(tmp_path / "m.vcf", vcf_text(hap, extra_records=extra))
    with pytest.raises(DataError) as err:
        read_vcf(path)
    assert "record 1:99999" in str(err.value)
    assert "missing genotype for sample 'S001'" in str(err.value)
    assert str(path) in str(err.value)


def test_unphased_genotype_names_record_and_sample(tmp_path):
    hap, _ = structured_haplotypes(n_samples=3, n_variants=4)
    extra = [_bad_record("0|1\t1|1\t0/1")]
    path = write_vcf(tmp_path / "u.vcf", vcf_text(hap, extra_records=extra))
    with pytest.raises(
        DataError, match=r"record 1:99999 has an unphased genotype for sample 'S002'"
    ):
        read_vcf(path)


def test_haploid_call_is_a_clear_error(tmp_path):
    hap, _ = structured_haplotypes(n_samples=3, n_variants=4)
    extra = [_bad_record("0|1\t1\t0|1")]
    path = write_vcf(tmp_path / "h.vcf", vcf_text(hap, extra_records=extra))
    with pytest.raises(DataError, match=r"haploid call for sample 'S001'"):
        read_vcf(path)


def test_missing_empty_and_plain_gzip_files(tmp_path):
    with pytest.raises(DataError, match="VCF/BCF file not found"):
        read_vcf(tmp_path / "nope.vcf.gz")
    empty = tmp_path / "empty.vcf"
    empty.write_text("")
    with pytest.raises(DataError, match="the file is empty"):
        read_vcf(empty)
    hap, _ = structured_haplotypes(n_samples=3, n_variants=4)
    garbage = tmp_path / "garbage.vcf"
    garbage.write_text("this is not a VCF\n")
    with pytest.raises(DataError, match="cannot be read as VCF/BCF"):
        read_vcf(garbage)
    # htslib reads plain gzip too (slowly, no index): the values must still be right
    gz = write_gzip(tmp_path / "plain.vcf.gz", vcf_text(hap))
    np.testing.assert_array_equal(read_vcf(gz).haplotypes, hap)


def test_no_samples_is_an_error(tmp_path):
    text = HEADER.format(contig="1", samples="").replace("\tFORMAT\t\n", "\n")
    text = text.replace("\tFORMAT\t", "").rstrip("\t\n") + "\n1\t100\t.\tA\tG\t.\tPASS\t.\n"
    path = write_vcf(tmp_path / "n.vcf", text)
    with pytest.raises(DataError, match="no samples"):
        read_vcf(path)


def test_no_gt_field_is_an_error(tmp_path):
    hap, _ = structured_haplotypes(n_samples=2, n_variants=2)
    text = vcf_text(hap).replace(
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n', ""
    )
    text = text.replace("\tGT\t", "\tDP\t").replace(
        "##fileformat=VCFv4.2\n",
        '##fileformat=VCFv4.2\n##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">\n',
    )
    path = write_vcf(tmp_path / "g.vcf", text)
    with pytest.raises(DataError, match="no GT FORMAT field"):
        read_vcf(path)


def test_population_labels(tmp_path):
    path = tmp_path / "p.tsv"
    path.write_text("sample\tpopulation\tsex\nS1\tYRI\tF\nS2\tCEU\tM\n")
    labels = read_populations(path, np.array(["S2", "S1", "S3"], dtype=object))
    assert list(labels) == ["CEU", "YRI", "unknown"]
    bad = tmp_path / "bad.tsv"
    bad.write_text("id\tpop\nS1\tYRI\n")
    with pytest.raises(DataError, match="expected tab-separated columns 'sample' and 'population'"):
        read_populations(bad, np.array(["S1"]))
