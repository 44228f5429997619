"""VCF reading: values, filters with counts, policies, and errors that name the record and sample."""

import logging

import numpy as np
import pytest
from vcf_factory import (
    HEADER,
    structured_haplotypes,
    vcf_from_records,
    vcf_text,
    write_gzip,
    write_vcf,
)

from vae_genomics.common.errors import DataError
from vae_genomics.data.vcf import read_populations, read_sample_file, read_vcf


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
        "missing_dropped": 0,
        "monomorphic": 1,
        "below_min_maf": 1,
        "below_min_mac": 0,
        "kept": 8,
        "missing_calls": 0,
        "unphased_calls": 0,
        "haploid_calls": 0,
        "duplicate_positions": 0,
        "duplicate_kept": 0,
    }
    # a minor allele count threshold: the singleton (MAC 1) goes, the MAF-0.5 sites stay
    by_mac = read_vcf(path, min_mac=2).filter_counts
    assert by_mac["below_min_mac"] == 1 and by_mac["kept"] == 8


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


def test_unphased_calls_are_used_as_written_when_allowed(tmp_path, caplog):
    samples = ["S0", "S1", "S2"]
    records = [
        ("1", 10, "A", "G", ["0|1", "1|1", "1/0"]),
        ("1", 20, "A", "G", ["0|1", "0/1", "0|0"]),
    ]
    path = write_vcf(tmp_path / "u.vcf", vcf_from_records(samples, records))
    with caplog.at_level(logging.WARNING):
        matrix = read_vcf(path, allow_unphased=True)
    np.testing.assert_array_equal(matrix.haplotypes[:, 0], [0, 1, 1, 1, 1, 0])
    np.testing.assert_array_equal(matrix.haplotypes[:, 1], [0, 1, 0, 1, 0, 0])
    assert matrix.filter_counts["unphased_calls"] == 2
    assert "2 unphased heterozygous calls used as if phased" in caplog.text


def test_unphased_homozygous_calls_are_accepted(tmp_path):
    records = [("1", 10, "A", "G", ["0/0", "1/1", "0|1"])]
    path = write_vcf(tmp_path / "h.vcf", vcf_from_records(["A", "B", "C"], records))
    np.testing.assert_array_equal(read_vcf(path).haplotypes[:, 0], [0, 0, 1, 1, 0, 1])


def _with_missing(tmp_path, n_samples=200, p=0.3, seed=1):
    """One site with ALT frequency ~p and 40 missing calls, plus a clean site."""
    rng = np.random.default_rng(seed)
    hap = (rng.random((n_samples, 2)) < p).astype(int)
    calls = [f"{a}|{b}" for a, b in hap]
    for i in range(0, 40):
        calls[i] = ".|."
    clean = [f"{a}|{b}" for a, b in (rng.random((n_samples, 2)) < 0.5).astype(int)]
    samples = [f"S{i:03d}" for i in range(n_samples)]
    records = [("1", 10, "A", "G", calls), ("1", 20, "C", "T", clean)]
    return write_vcf(tmp_path / "m.vcf", vcf_from_records(samples, records)), hap


def test_drop_site_policy_counts_the_missing_calls(tmp_path):
    path, _ = _with_missing(tmp_path)
    matrix = read_vcf(path, missing="drop-site")
    assert list(matrix.positions) == [20]
    counts = matrix.filter_counts
    assert counts["missing_dropped"] == 1 and counts["missing_calls"] == 40
    assert counts["kept"] == 1


def test_impute_af_draws_from_the_site_frequency_with_a_seed(tmp_path):
    path, hap = _with_missing(tmp_path)
    raw = read_vcf(path, missing="impute-af", impute_seed=3)
    assert raw.filter_counts["missing_calls"] == 40
    # the reader keeps missing alleles (-1) until a section is selected ...
    assert (raw.haplotypes[:80, 0] == -1).all()
    section = raw.select_variants(0, 2)
    assert section.filter_counts["imputed_calls"] == 80
    imputed = section.haplotypes[:80, 0]
    assert set(np.unique(imputed)) <= {0, 1}
    np.testing.assert_array_equal(section.haplotypes[80:, 0], hap[40:].reshape(-1))
    # ... and the draws follow the observed allele frequency (0.3 here; 80 draws)
    observed = hap[40:].mean()
    assert abs(imputed.mean() - observed) < 0.15
    # the same seed gives the same draws, another seed other draws
    again = read_vcf(path, missing="impute-af", impute_seed=3).select_variants(0, 2)
    other = read_vcf(path, missing="impute-af", impute_seed=4).select_variants(0, 2)
    np.testing.assert_array_equal(again.haplotypes, section.haplotypes)
    assert not np.array_equal(other.haplotypes[:80, 0], imputed)


def test_impute_af_draws_do_not_depend_on_other_records_or_samples(tmp_path):
    path, _ = _with_missing(tmp_path)
    whole = read_vcf(path, missing="impute-af").select_variants(0, 1)
    alone = read_vcf(path, missing="impute-af", region="1:10-10").select_variants(0, 1)
    np.testing.assert_array_equal(whole.haplotypes, alone.haplotypes)


def test_sample_subset_keeps_file_order_and_lists_unknown_ids(tmp_path):
    hap, _ = structured_haplotypes(n_samples=5, n_variants=30)
    path = write_vcf(tmp_path / "s.vcf", vcf_text(hap))
    matrix = read_vcf(path, samples=["S003", "S001"])
    assert list(matrix.sample_ids) == ["S001", "S003"]
    assert list(matrix.haplotype_ids) == ["S001_A", "S001_B", "S003_A", "S003_B"]
    expected = hap[[2, 3, 6, 7]]
    keep = (expected.sum(axis=0) > 0) & (expected.sum(axis=0) < 4)
    np.testing.assert_array_equal(matrix.haplotypes, expected[:, keep])
    with pytest.raises(DataError) as err:
        read_vcf(path, samples=["S001", "NA12878", "HG00096"])
    message = str(err.value)
    assert "2 of the 3 requested samples are not in the file: NA12878, HG00096" in message
    assert str(path) in message


def test_sample_file_ignores_comments_and_blank_lines(tmp_path):
    ids = tmp_path / "ids.txt"
    ids.write_text("# cohort subset\nS1\n\nS2\nS1\n")
    assert read_sample_file(ids) == ["S1", "S2"]
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n")
    with pytest.raises(DataError, match="the sample list is empty"):
        read_sample_file(empty)


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
