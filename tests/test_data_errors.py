"""Bad input gets an error that names the file (record, line, section) and says what to do."""

import gzip

import numpy as np
import pytest
from vcf_factory import (
    structured_haplotypes,
    vcf_from_records,
    vcf_text,
    write_indexed,
    write_vcf,
)

from vae_genomics.common.errors import ConfigError, DataError
from vae_genomics.config import DataConfig
from vae_genomics.data import list_sections, load_section
from vae_genomics.data.sections import read_bed
from vae_genomics.data.vcf import read_vcf


@pytest.fixture
def text() -> str:
    hap, _ = structured_haplotypes(n_samples=4, n_variants=40)
    return vcf_text(hap)


def test_empty_files(tmp_path):
    empty = tmp_path / "empty.vcf.gz"
    empty.write_bytes(b"")
    with pytest.raises(DataError, match=r"empty\.vcf\.gz: the file is empty"):
        read_vcf(empty)
    compressed_nothing = tmp_path / "nothing.vcf.gz"
    with gzip.open(compressed_nothing, "wb"):
        pass
    with pytest.raises(DataError, match=r"nothing\.vcf\.gz: the file is empty \(no header\)"):
        read_vcf(compressed_nothing)


def test_truncated_bgzip_file(tmp_path, text):
    path = write_vcf(tmp_path / "cut.vcf.gz", text)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(DataError) as err:
        read_vcf(path)
    message = str(err.value)
    assert str(path) in message and "truncated" in message and "re-create" in message


def test_truncated_plain_gzip_file(tmp_path, text):
    path = tmp_path / "cut.vcf.gz"
    packed = gzip.compress(text.encode())
    path.write_bytes(packed[: len(packed) - 40])
    with pytest.raises(DataError, match=r"cut\.vcf\.gz: the compressed file is truncated"):
        read_vcf(path)


def test_missing_chrom_header_line(tmp_path, text):
    lines = [line for line in text.splitlines() if not line.startswith("#CHROM")]
    path = write_vcf(tmp_path / "nohead.vcf", "\n".join(lines) + "\n")
    with pytest.raises(DataError) as err:
        read_vcf(path)
    assert f"{path}: no '#CHROM' header line before the first record" in str(err.value)
    assert "#CHROM POS ID REF ALT QUAL FILTER INFO FORMAT" in str(err.value)


def test_header_with_wrong_fixed_columns(tmp_path, text):
    path = write_vcf(tmp_path / "cols.vcf", text.replace("\tQUAL\t", "\tQUALITY\t"))
    with pytest.raises(DataError, match="header line has the columns"):
        read_vcf(path)


@pytest.mark.parametrize(("change", "found"), [(+1, 14), (-1, 12)])
def test_wrong_column_count_names_the_line_and_the_numbers(tmp_path, text, change, found):
    lines = text.splitlines()
    record = 5  # line 6 of the file: the 2nd record
    lines[record] = lines[record] + "\t0|1" if change > 0 else lines[record].rsplit("\t", 1)[0]
    path = write_vcf(tmp_path / "n.vcf", "\n".join(lines) + "\n")
    with pytest.raises(DataError) as err:
        read_vcf(path)
    message = str(err.value)
    assert str(path) in message and "record 1:200" in message
    assert f"has {found} tab-separated columns, but the header has 13 (9 fixed + 4 samples)" in (
        message
    )


def test_record_with_too_few_fixed_columns(tmp_path, text):
    path = write_vcf(tmp_path / "short.vcf", text + "1\t99999\t.\tA\n")
    with pytest.raises(DataError, match=r"line 45 \(record '1 99999'\) has 4 tab-separated"):
        read_vcf(path)


def test_unsorted_and_split_contigs(tmp_path):
    calls = ["0|1", "1|0"]
    unsorted = [("1", 200, "A", "G", calls), ("1", 100, "A", "G", calls)]
    path = write_vcf(tmp_path / "u.vcf", vcf_from_records(["A", "B"], unsorted))
    with pytest.raises(DataError, match=r"record 1:100 comes after position 200.*bcftools sort"):
        read_vcf(path)
    split = [("1", 1, "A", "G", calls), ("2", 1, "A", "G", calls), ("1", 5, "A", "G", calls)]
    path = write_vcf(tmp_path / "s.vcf", vcf_from_records(["A", "B"], split, ("1", "2")))
    with pytest.raises(DataError, match=r"contig '1' are not contiguous.*bcftools sort"):
        read_vcf(path)


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        ("0|1|1", "a call with more than two alleles in sample column 2"),
        ("0|2", "allele index 2 in sample column 2, but the record has one ALT allele"),
        ("0|x", "malformed call b'0|x' in sample column 2"),
    ],
)
def test_bad_calls_name_record_and_column(tmp_path, call, expected):
    records = [("1", 10, "A", "G", ["0|1", call, "1|1"])]
    path = write_vcf(tmp_path / "c.vcf", vcf_from_records(["A", "B", "C"], records))
    with pytest.raises(DataError) as err:
        read_vcf(path)
    assert "record 1:10" in str(err.value) and expected in str(err.value)


def test_unknown_contig_suggests_the_other_naming(tmp_path, text):
    path = write_indexed(tmp_path / "i.vcf.gz", text)
    with pytest.raises(DataError) as err:
        read_vcf(path, region="chr1:1-1000")
    assert f"{path}: contig 'chr1' is not in the file (contigs: 1). Did you mean '1'?" in str(
        err.value
    )


def test_region_sections_with_no_variants_or_unknown_contigs(tmp_path, text):
    path = write_vcf(tmp_path / "r.vcf", text)  # variants at 100, 200, ..., 4000
    config = DataConfig(
        vcf=path, populations=None, min_maf=0.0, sections="regions", regions=["1:150-180"]
    )
    with pytest.raises(DataError) as err:
        list_sections(config)
    message = str(err.value)
    assert "data.regions: region '1_150-180' (1:150-180) has no variants after filtering" in message
    assert "(0 records before filtering)" in message
    config = config.model_copy(update={"regions": ["1:100-300", "chr7:1-5"]})
    with pytest.raises(DataError) as err:
        load_section(config, "chr7_1-5")
    expected = f"{path}: contig 'chr7' (section 'chr7_1-5') is not in the file (contigs: 1)"
    assert expected in str(err.value)
    with pytest.raises(DataError) as err:
        list_sections(config)
    assert "contig 'chr7' (region 'chr7_1-5' of data.regions) is not in the file" in str(err.value)


def test_bed_line_with_end_before_start(tmp_path):
    bed = tmp_path / "sections.bed"
    bed.write_text("track name=x\n1\t0\t1000\tfirst\n1\t5000\t4000\tbackwards\n")
    with pytest.raises(DataError) as err:
        read_bed(bed)
    assert f"{bed}: line 3: end 4000 < start 5000" in str(err.value)
    assert "0-based half-open" in str(err.value)


def test_scheme_without_its_option_is_a_config_error(tmp_path, text):
    path = write_vcf(tmp_path / "r.vcf", text)
    with pytest.raises(ConfigError, match=r"data\.sections is 'bed' but data\.bed is not set"):
        list_sections(DataConfig(vcf=path, populations=None, sections="bed"))


def test_no_variants_left_after_filtering(tmp_path):
    records = [("1", 10, "A", "G", ["0|0", "0|0"])]
    path = write_vcf(tmp_path / "m.vcf", vcf_from_records(["A", "B"], records))
    with pytest.raises(DataError, match="no biallelic SNPs left after filtering"):
        load_section(DataConfig(vcf=path, populations=None))
    assert read_vcf(path).n_variants == 0
    assert np.asarray(read_vcf(path).haplotypes).shape == (4, 0)
