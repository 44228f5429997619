"""Export: synthetic haplotypes as a phased VCF that cyvcf2 reads back, latent TSVs, site reading."""

import errno
import gzip

import numpy as np
import pandas as pd
import pytest
from cyvcf2 import VCF
from vcf_factory import vcf_text, write_vcf

from vae_genomics.common.errors import DataError, os_error_message
from vae_genomics.data.at_sites import read_section_haplotypes
from vae_genomics.data.export import check_haplotype_count, write_haplotype_vcf
from vae_genomics.data.latent_tsv import write_latent_tsv

POSITIONS = np.array([101, 250, 251, 900, 1500])
REF = ["A", "C", "G", "T", "A"]
ALT = ["G", "T", "A", "C", "T"]
IDS = ["rs1", ".", "rs3", "rs4", "rs5"]


def _read_back(path):
    vcf = VCF(str(path), gts012=False)
    samples = list(vcf.samples)
    rows = []
    for rec in vcf:
        gt = rec.genotype.array()
        assert gt[:, 2].all()  # every call phased
        rows.append((rec.CHROM, rec.POS, rec.ID or ".", rec.REF, rec.ALT[0], gt[:, :2].ravel()))
    vcf.close()
    return samples, rows


def test_written_vcf_parses_back_with_the_same_sites_and_haplotypes(tmp_path, rng):
    hap = (rng.random((6, 5)) < 0.5).astype(np.int8)
    out = write_haplotype_vcf(
        tmp_path / "syn.vcf.gz", hap, "chr22", POSITIONS, REF, ALT, IDS,
        header_lines=["##source=test"],
    )  # fmt: skip
    with open(out, "rb") as handle:  # BGZF: a gzip member with the 'BC' extra field
        head = handle.read(16)
    assert head[:2] == b"\x1f\x8b" and head[12:14] == b"BC"
    samples, rows = _read_back(out)
    assert samples == ["syn0001", "syn0002", "syn0003"]
    assert [r[0] for r in rows] == ["chr22"] * 5
    assert [r[1] for r in rows] == POSITIONS.tolist()
    assert [r[3] for r in rows] == REF and [r[4] for r in rows] == ALT
    assert [r[2] for r in rows] == IDS
    # sample i carries haplotypes 2i | 2i+1
    np.testing.assert_array_equal(np.stack([r[5] for r in rows], axis=1), hap)
    with gzip.open(out, "rt") as handle:
        text = handle.read()
    assert "##source=test" in text and "##contig=<ID=chr22>" in text
    assert not list(tmp_path.glob(".*partial"))


def test_blocks_of_sites_write_the_same_text_as_one_array(tmp_path, rng, monkeypatch):
    """A region's sections written as they are drawn give the file one array gives, in chunks of
    whole records (the chunk size forced down to two records), and a wrong block is refused."""
    import vae_genomics.data.export as export

    hap = (rng.random((8, 5)) < 0.5).astype(np.int8)
    whole = write_haplotype_vcf(tmp_path / "a.vcf.gz", hap, "1", POSITIONS, REF, ALT)
    monkeypatch.setattr(export, "_CHUNK_BYTES", 2 * 2 * len(hap))
    blocks = (hap[:, :2], hap[:, 2:3], hap[:, 3:])
    parts = write_haplotype_vcf(
        tmp_path / "b.vcf.gz", iter(blocks), "1", POSITIONS, REF, ALT, n_haplotypes=8
    )
    with gzip.open(whole, "rt") as a, gzip.open(parts, "rt") as b:
        assert a.read() == b.read()
    for bad, message in (((hap[:, :2],), "2 variants in the haplotypes but 5"),
                         ((hap[:6],), "do not fit 8 haplotypes"),
                         ((hap[:, :3], hap[:, :3]), "do not fit")):  # fmt: skip
        with pytest.raises(ValueError, match=message):
            write_haplotype_vcf(tmp_path / "c.vcf.gz", iter(bad), "1", POSITIONS, REF, ALT,
                                n_haplotypes=8)  # fmt: skip
        assert not (tmp_path / "c.vcf.gz").exists() and not list(tmp_path.glob(".*partial*"))


@pytest.mark.parametrize("n", [0, 1, 3, 7])
def test_odd_or_empty_haplotype_counts_are_refused(n):
    with pytest.raises(DataError, match="must be even"):
        check_haplotype_count(n)


def test_bad_shapes_and_values_are_refused(tmp_path):
    with pytest.raises(ValueError, match="positions"):
        write_haplotype_vcf(tmp_path / "x.vcf.gz", np.zeros((2, 4)), "1", POSITIONS, REF, ALT)
    with pytest.raises(ValueError, match="0 \\(REF\\) and 1"):
        write_haplotype_vcf(tmp_path / "x.vcf.gz", np.full((2, 5), 2), "1", POSITIONS, REF, ALT)


def test_latent_tsv_layout(tmp_path):
    mean = np.array([[0.5, -1.0], [0.0, 2.0]])
    log_var = np.log(np.array([[0.25, 1.0], [4.0, 0.01]]))
    path = write_latent_tsv(tmp_path / "l.tsv", ["s_A", "s_B"], ["s", "s"], mean, log_var,
                            split=["external", "external"])  # fmt: skip
    table = pd.read_csv(path, sep="\t")
    assert list(table.columns) == [
        "haplotype", "sample", "population", "split", "mean_1", "mean_2", "sd_1", "sd_2",
    ]  # fmt: skip
    assert list(table["population"]) == ["unknown", "unknown"]
    np.testing.assert_allclose(table[["sd_1", "sd_2"]], [[0.5, 1.0], [2.0, 0.1]], rtol=1e-5)


def _cohort_vcf(tmp_path, hap, name="c.vcf", **kwargs):
    return write_vcf(tmp_path / name, vcf_text(hap, positions=POSITIONS, contig="22", **kwargs))


def test_reads_the_sites_of_a_section_including_monomorphic_ones(tmp_path, rng):
    hap = (rng.random((8, 5)) < 0.5).astype(np.int8)
    hap[:, 2] = 0  # monomorphic here: kept, unlike the training reader
    path = _cohort_vcf(tmp_path, hap)
    got = read_section_haplotypes(path, "22", POSITIONS, ["A"] * 5, ["G"] * 5)
    np.testing.assert_array_equal(got.haplotypes, hap)
    assert got.haplotype_ids[:2].tolist() == ["S000_A", "S000_B"]
    # a subset of sites, in the order asked for
    sub = read_section_haplotypes(path, "22", POSITIONS[[3, 1]], ["A", "A"], ["G", "G"])
    np.testing.assert_array_equal(sub.haplotypes, hap[:, [3, 1]])


def test_missing_sites_are_named(tmp_path, rng):
    hap = (rng.random((4, 5)) < 0.5).astype(np.int8)
    path = _cohort_vcf(tmp_path, hap)
    with pytest.raises(DataError, match=r"1 of the section's 2 sites are missing \(e.g. 22:777"):
        read_section_haplotypes(path, "22", np.array([101, 777]), ["A", "A"], ["G", "G"])
    with pytest.raises(DataError, match=r"other alleles, e\.g\. 22:101 A>G"):
        read_section_haplotypes(path, "22", np.array([101]), ["A"], ["T"])
    with pytest.raises(DataError, match=r"contig 'chr22' \(the contig of the run's sites\) is not "
                       r"in the file .* Did you mean '22'\? The file must name the run's contig as "
                       r"the training data did: rename its contigs"):  # fmt: skip
        read_section_haplotypes(path, "chr22", np.array([101]), ["A"], ["G"])
    # without ##contig lines the records tell
    headless = write_vcf(tmp_path / "h.vcf", "".join(
        line for line in path.read_text().splitlines(keepends=True) if "##contig" not in line
    ))  # fmt: skip
    with pytest.raises(DataError, match=r"no records on contig 'chr22'.*check the contig naming"):
        read_section_haplotypes(headless, "chr22", np.array([101]), ["A"], ["G"])


def test_missing_and_unphased_calls_are_errors(tmp_path):
    base = vcf_text(np.zeros((4, 1), dtype=np.int8), positions=np.array([101]), contig="22")
    missing = base.replace("0|0\t0|0", ".|.\t0|0")
    with pytest.raises(DataError, match=r"22:101 has a missing call '\.\|\.' for sample 'S000'"):
        read_section_haplotypes(write_vcf(tmp_path / "m.vcf", missing), "22", [101], ["A"], ["G"])
    unphased = base.replace("0|0\t0|0", "0|0\t0/1")
    with pytest.raises(DataError, match="unphased heterozygous call '0/1' for sample 'S001'"):
        read_section_haplotypes(write_vcf(tmp_path / "u.vcf", unphased), "22", [101], ["A"], ["G"])
    with pytest.raises(DataError, match="not found"):
        read_section_haplotypes(tmp_path / "nope.vcf", "22", [101], ["A"], ["G"])


def test_round_trip_through_a_written_vcf(tmp_path, rng):
    hap = (rng.random((10, 5)) < 0.3).astype(np.int8)
    out = write_haplotype_vcf(tmp_path / "s.vcf.gz", hap, "22", POSITIONS, REF, ALT)
    got = read_section_haplotypes(out, "22", POSITIONS, REF, ALT)
    np.testing.assert_array_equal(got.haplotypes, hap)
    assert got.sample_ids.tolist() == [f"syn{i:04d}" for i in range(1, 6)]


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("contig", "22\n##INFO=<ID=X>", "contig name '22\\n##INFO=<ID=X>'"),
        ("contig", "chr 22", "contig name 'chr 22'"),
        ("contig", "22\tinjected", "contig name '22\\tinjected'"),
        ("contig", "<22>", "contig name '<22>'"),
        ("contig", "", "contig name ''"),
        ("sample_prefix", "syn\n#CHROM", "sample ID 'syn\\n#CHROM0001'"),
        ("sample_prefix", "a b", "sample ID 'a b0001'"),
        ("ids", ["rs1", "rs\t2", ".", ".", "."], "ID of record 22:250 'rs\\t2'"),
        ("ref", ["A", "C\nX", "G", "T", "A"], "REF of record 22:250 'C\\nX'"),
        ("alt", ["G", "T", "A", "C", "T\t."], "ALT of record 22:1500 'T\\t.'"),
        ("header_lines", ["##note=a\n##INFO=<ID=X>"], "header line '##note=a\\n##INFO=<ID=X>'"),
        ("header_lines", ["#CHROM"], "header line '#CHROM'"),
    ],
)
def test_values_invalid_in_a_vcf_are_refused_with_their_source(tmp_path, field, value, named):
    args = dict(contig="22", ids=None, ref=REF, alt=ALT, header_lines=(), sample_prefix="syn")
    args[field] = value
    out = tmp_path / "syn.vcf.gz"
    with pytest.raises(DataError) as caught:
        write_haplotype_vcf(
            out, np.zeros((4, 5), np.int8), positions=POSITIONS, source="run runs/x/default",
            **args,
        )  # fmt: skip
    message = str(caught.value)
    assert message.startswith(f"run runs/x/default: {named} cannot be written to a VCF: ")
    assert "fix the value where it came from" in message
    assert not list(tmp_path.iterdir())  # nothing written, not even a partial file
    with pytest.raises(DataError, match="cannot be written"):  # standard output too
        write_haplotype_vcf(
            "-", np.zeros((4, 5), np.int8), positions=POSITIONS, source="run runs/x/default",
            **args,
        )  # fmt: skip


def test_valid_unusual_names_are_written_and_the_command_is_escaped(tmp_path):
    from vae_genomics.data.export import provenance_header

    header = provenance_header("vae-genomics sample --out 'a\nb.vcf.gz'\t--n 4")
    assert header[0].endswith("--out 'a\\nb.vcf.gz'\\t--n 4") and "\n" not in header[0]
    out = write_haplotype_vcf(
        tmp_path / "syn.vcf.gz", np.zeros((4, 5), np.int8), "HLA-A*01:01", POSITIONS, REF, ALT,
        ids=["rs1;rs9", ".", ".", ".", "."], header_lines=header,
    )  # fmt: skip
    vcf = VCF(str(out))
    assert [rec.CHROM for rec in vcf] == ["HLA-A*01:01"] * 5
    assert "--out 'a\\nb.vcf.gz'" in vcf.raw_header


def test_a_full_disk_while_indexing_is_named_as_such(tmp_path, monkeypatch, caplog):
    """htslib says only "building of index ... failed": the message says the disk is full, names
    the index and leaves no partial file."""
    import shutil
    from collections import namedtuple

    import pysam

    def failing(*args, **kwargs):
        raise OSError("building of index for x.vcf.gz failed")

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(pysam, "tabix_index", failing)
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**9, 10**9 - 4096, 4096))
    out = tmp_path / "s.vcf.gz"
    with pytest.raises(OSError) as err:
        write_haplotype_vcf(out, np.zeros((2, 5), np.int8), "22", POSITIONS, REF, ALT)
    assert err.value.errno == errno.ENOSPC and err.value.filename == f"{out}.tbi"
    assert "no space left" in str(err.value) and "4096 bytes free" in str(err.value)
    assert os_error_message(err.value).endswith(
        "free some space on that device (or write elsewhere) and run it again."
    )
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**9, 0, 10**9))
    with pytest.raises(OSError, match="tabix index could not be written"):
        write_haplotype_vcf(out, np.zeros((2, 5), np.int8), "22", POSITIONS, REF, ALT)


def test_a_region_of_differently_filtered_sections_states_each_sections_sites():
    from types import SimpleNamespace

    from vae_genomics.commands.region_vcf import _sites_lines

    def run(min_maf: float, min_mac: int = 0) -> SimpleNamespace:
        data = SimpleNamespace(min_maf=min_maf, min_mac=min_mac, missing="error")
        return SimpleNamespace(config=SimpleNamespace(data=data))

    region = SimpleNamespace(sections=[run(0.01), run(0.01)], positions=np.arange(30),
                             offsets=np.array([0, 10, 30]), section_names=["a", "b"])  # fmt: skip
    (line,) = _sites_lines(region)
    assert line.startswith("##vae_genomics_sites=<Sites=30,MinMAF=0.01,MinMAC=0,")
    region.sections = [run(0.01), run(0.0, 3)]
    first, second = _sites_lines(region)
    assert first.startswith("##vae_genomics_sites=<Section=a,Sites=10,MinMAF=0.01,MinMAC=0,")
    assert second.startswith("##vae_genomics_sites=<Section=b,Sites=20,MinMAF=0,MinMAC=3,")
