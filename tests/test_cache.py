"""The convert-once cache: identical sections, slice-only reads, VCF Zarr layout, stale caches."""

import shutil

import numpy as np
import pytest
import zarr
from vcf_factory import (
    MESSY_RECORDS,
    MESSY_SAMPLES,
    structured_haplotypes,
    vcf_from_records,
    vcf_text,
    write_indexed,
    write_vcf,
)

from vae_genomics.common.errors import DataError
from vae_genomics.config import DataConfig
from vae_genomics.data import list_sections, load_section, section_table
from vae_genomics.data.cache import Cache
from vae_genomics.data.cache_writer import write_cache
from vae_genomics.data.zarr_io import LazyGenotypes


@pytest.fixture
def cohort(tmp_path):
    """Two contigs: a structured autosome plus the messy records (missing, haploid, indels...)."""
    hap, _ = structured_haplotypes(n_samples=4, n_variants=60, seed=3)
    calls = [[f"{hap[2 * s, j]}|{hap[2 * s + 1, j]}" for s in range(4)] for j in range(60)]
    records = [("2", 1000 + 10 * j, "C", "T", c) for j, c in enumerate(calls)]
    text = vcf_from_records(MESSY_SAMPLES, MESSY_RECORDS[:12] + records + MESSY_RECORDS[12:],
                            contigs=("1", "2", "X"))  # fmt: skip
    vcf = write_indexed(tmp_path / "cohort.vcf.gz", text)
    cache = write_cache(vcf, tmp_path / "cohort.vcz", chunk_variants=16)
    pops = tmp_path / "pops.tsv"
    pops.write_text("sample\tpopulation\nF1\tA\nM1\tB\nF2\tA\nM2\tB\n")
    return {"vcf": vcf, "cache": cache, "populations": pops, "tmp": tmp_path}


def _assert_same_section(a, b) -> None:
    assert a.section == b.section
    for field in ("haplotype_ids", "haplotype_samples", "positions", "chrom", "variant_ids"):
        assert list(getattr(a.matrix, field)) == list(getattr(b.matrix, field)), field
    assert list(a.matrix.ref) == list(b.matrix.ref) and list(a.matrix.alt) == list(b.matrix.alt)
    np.testing.assert_array_equal(a.matrix.haplotypes, b.matrix.haplotypes)
    assert a.matrix.filter_counts == b.matrix.filter_counts
    assert list(a.populations) == list(b.populations)


SETTINGS = [
    {"missing": "impute-af", "window_snps": 10},
    {"missing": "drop-site", "min_mac": 2, "window_snps": 12},
    {"missing": "impute-af", "sections": "bp-windows", "window_bp": 200},
    {"missing": "impute-af", "sections": "regions", "regions": ["X:1-3000", "2:1100-1400"]},
    {"missing": "impute-af", "allow_unphased": True, "min_maf": 0.2, "window_snps": 25},
]


@pytest.mark.parametrize("settings", SETTINGS)
def test_every_section_from_the_cache_equals_the_vcf(cohort, settings):
    base = {"vcf": cohort["vcf"], "populations": cohort["populations"], "min_maf": 0.0}
    from_vcf = DataConfig(**{**base, **settings})
    from_cache = from_vcf.model_copy(update={"cache": cohort["cache"]})
    matrix_vcf, sections = list_sections(from_vcf)
    matrix_cache, cached_sections = list_sections(from_cache)
    assert cached_sections == sections
    assert section_table(matrix_cache, sections) == section_table(matrix_vcf, sections)
    for section in sections:
        _assert_same_section(
            load_section(from_vcf, section.name), load_section(from_cache, section.name)
        )


def test_sample_subset_from_a_full_cache(cohort):
    samples = cohort["tmp"] / "ids.txt"
    samples.write_text("M2\nF1\n")
    base = DataConfig(vcf=cohort["vcf"], populations=cohort["populations"], min_maf=0.0,
                      samples=samples, missing="impute-af", window_snps=8)  # fmt: skip
    cached = base.model_copy(update={"cache": cohort["cache"]})
    _, sections = list_sections(base)
    assert list_sections(cached)[1] == sections
    for section in sections:
        vcf_data, cache_data = load_section(base, section.name), load_section(cached, section.name)
        assert set(vcf_data.matrix.haplotype_samples) <= {"F1", "M2"}
        _assert_same_section(vcf_data, cache_data)


@pytest.mark.parametrize("settings", SETTINGS[:3])
def test_listing_from_the_cache_parses_no_vcf_and_reads_no_genotypes(cohort, settings, monkeypatch):
    base = {"vcf": cohort["vcf"], "populations": cohort["populations"], "min_maf": 0.0}
    from_vcf = DataConfig(**{**base, **settings})
    expected = section_table(*list_sections(from_vcf, genotypes=False))
    import vae_genomics.data.pipeline as pipeline
    import vae_genomics.data.vcf as vcf

    def refuse(*args, **kwargs):
        raise AssertionError("the VCF was opened for parsing")

    monkeypatch.setattr(pipeline, "read_vcf", refuse)
    monkeypatch.setattr(pipeline, "VcfSource", refuse)
    monkeypatch.setattr(vcf, "read_vcf", refuse)
    monkeypatch.setattr(LazyGenotypes, "__getitem__", refuse)
    monkeypatch.setattr(LazyGenotypes, "__array__", refuse)
    from_cache = from_vcf.model_copy(update={"cache": cohort["cache"]})
    assert section_table(*list_sections(from_cache, genotypes=False)) == expected


def test_a_section_reads_only_its_own_genotype_chunks(cohort, monkeypatch):
    config = DataConfig(vcf=cohort["vcf"], cache=cohort["cache"], populations=None,
                        min_maf=0.0, missing="impute-af", window_snps=10)  # fmt: skip
    _, sections = list_sections(config)
    target = sections[3]
    requested = []
    original = LazyGenotypes.__getitem__

    def spy(self, key):
        wanted = self.rows[key[1]]
        requested.append((int(wanted.min()), int(wanted.max())))
        return original(self, key)

    monkeypatch.setattr(LazyGenotypes, "__getitem__", spy)
    data = load_section(config, target.name)
    assert data.matrix.n_variants == target.n_variants
    ((lo, hi),) = requested
    assert hi - lo + 1 < 2 * target.n_variants  # its own rows (and filtered ones between), no more


def test_cache_is_a_vcf_zarr_store(cohort):
    root = zarr.open_group(str(cohort["cache"]), mode="r")
    assert root.attrs["vcf_zarr_version"] == "0.4"
    assert list(root["sample_id"][:]) == MESSY_SAMPLES
    assert list(root["contig_id"][:]) == ["1", "2", "X"]
    n_variants = root["variant_position"].shape[0]
    assert root["call_genotype"].shape == (n_variants, 4, 2)
    assert root["call_genotype_phased"].shape == (n_variants, 4)
    assert root["call_genotype"].attrs["_ARRAY_DIMENSIONS"] == ["variants", "samples", "ploidy"]
    assert root["variant_allele"].attrs["_ARRAY_DIMENSIONS"] == ["variants", "alleles"]
    # the first record: 1:100 A>G, calls 0|1 1|1 0|0 1|0
    assert int(root["variant_position"][0]) == 100 and list(root["variant_allele"][0]) == ["A", "G"]
    np.testing.assert_array_equal(root["call_genotype"][0], [[0, 1], [1, 1], [0, 0], [1, 0]])
    # a haploid call is padded with -2, a missing allele is -1 (as bio2zarr writes them)
    x_rows = np.flatnonzero(root["variant_contig"][:] == 2)
    np.testing.assert_array_equal(root["call_genotype"][x_rows[1]][1], [1, -2])
    np.testing.assert_array_equal(root["call_genotype"][x_rows[2]][3], [-1, -2])
    # only biallelic SNP records hold genotypes; every record is in the record log
    assert root["vaeg_records"].shape[0] == len(MESSY_RECORDS) + 60


def test_cache_made_from_another_vcf_is_detected(cohort, tmp_path):
    hap, _ = structured_haplotypes(n_samples=4, n_variants=20)
    other = write_vcf(tmp_path / "other.vcf.gz", vcf_text(hap, samples=MESSY_SAMPLES))
    config = DataConfig(vcf=other, cache=cohort["cache"], populations=None)
    with pytest.raises(DataError) as err:
        list_sections(config)
    message = str(err.value)
    assert f"{cohort['cache']}: this cache was made from {cohort['vcf'].resolve()}" in message
    assert f"not from {other}" in message
    assert f"vae-genomics cache {other} --out {cohort['cache']} --overwrite" in message
    # a byte-identical copy of the right file is fine
    copy = tmp_path / "copy.vcf.gz"
    shutil.copy(cohort["vcf"], copy)
    Cache(cohort["cache"]).check_source(copy)


def test_existing_caches_are_reused_or_refused(cohort, tmp_path, caplog):
    before = sorted(p.name for p in cohort["cache"].iterdir())
    with caplog.at_level("INFO"):
        write_cache(cohort["vcf"], cohort["cache"])
    assert "is up to date" in caplog.text
    assert sorted(p.name for p in cohort["cache"].iterdir()) == before
    hap, _ = structured_haplotypes(n_samples=4, n_variants=20)
    other = write_vcf(tmp_path / "other.vcf", vcf_text(hap))
    with pytest.raises(DataError, match=r"exists and is not a cache of .* Pass --overwrite"):
        write_cache(other, cohort["cache"])
    write_cache(other, cohort["cache"], overwrite=True)
    assert Cache(cohort["cache"]).source["size"] == other.stat().st_size
    assert not list(tmp_path.glob(".*partial")) and not list(tmp_path.glob(".*old"))


def _appears_meanwhile(monkeypatch, make) -> None:
    """``make()`` runs when the new store is complete, just before it is renamed into place."""
    from vae_genomics.data.cache_writer import CacheWriter

    real = CacheWriter.finish

    def finish_then_another_job_writes(self, source):
        real(self, source)
        make()

    monkeypatch.setattr(CacheWriter, "finish", finish_then_another_job_writes)


def test_a_cache_directory_that_appeared_meanwhile_is_kept(cohort, monkeypatch):
    """The existence check is the final rename: two conversions to one --out never both win."""
    out = cohort["tmp"] / "new.vcz"

    def other_job():
        out.mkdir()
        (out / "theirs.txt").write_text("another job's")

    _appears_meanwhile(monkeypatch, other_job)
    with pytest.raises(DataError) as err:
        write_cache(cohort["vcf"], out)
    message = str(err.value)
    assert f"{out}: appeared while this cache was being written" in message
    assert f"not a cache of {cohort['vcf']}" in message and "Pass --overwrite" in message
    assert [p.name for p in out.iterdir()] == ["theirs.txt"]
    assert not list(cohort["tmp"].glob(".new.vcz.*"))  # the new store was removed
    # --overwrite replaces only a cache of this program, even one that appeared meanwhile
    with pytest.raises(DataError, match="not a vae-genomics cache"):
        write_cache(cohort["vcf"], out, overwrite=True)
    assert [p.name for p in out.iterdir()] == ["theirs.txt"]
    assert not list(cohort["tmp"].glob(".new.vcz.*"))


def test_a_link_that_appeared_at_the_cache_meanwhile_is_never_followed(cohort, monkeypatch):
    out = cohort["tmp"] / "new.vcz"
    elsewhere = cohort["tmp"] / "elsewhere"
    elsewhere.mkdir()
    _appears_meanwhile(monkeypatch, lambda: out.symlink_to(elsewhere))
    for overwrite in (False, True):
        with pytest.raises(DataError, match=r"new.vcz: (appeared|exists and is not a directory)"):
            write_cache(cohort["vcf"], out, overwrite=overwrite)
        assert out.is_symlink() and not any(elsewhere.iterdir())
    assert not list(cohort["tmp"].glob(".new.vcz.*"))


def test_a_cache_that_appeared_meanwhile_is_replaced_with_overwrite(cohort, monkeypatch):
    hap, _ = structured_haplotypes(n_samples=4, n_variants=20)
    other = write_vcf(cohort["tmp"] / "other.vcf", vcf_text(hap, samples=MESSY_SAMPLES))
    theirs = write_cache(other, cohort["tmp"] / "theirs.vcz")
    out = cohort["tmp"] / "new.vcz"
    _appears_meanwhile(monkeypatch, lambda: shutil.copytree(theirs, out))
    with pytest.raises(DataError, match="appeared while"):
        write_cache(cohort["vcf"], out)
    assert Cache(out).source["size"] == other.stat().st_size
    shutil.rmtree(out)
    write_cache(cohort["vcf"], out, overwrite=True)
    Cache(out).check_source(cohort["vcf"])
    assert sorted(p.name for p in cohort["tmp"].glob(".*vcz*")) == []  # no .partial, no .old


def test_the_same_cache_written_meanwhile_by_another_job_is_kept(cohort, monkeypatch, caplog):
    out = cohort["tmp"] / "new.vcz"
    _appears_meanwhile(monkeypatch, lambda: shutil.copytree(cohort["cache"], out))
    with caplog.at_level("INFO"):
        assert write_cache(cohort["vcf"], out) == out
    assert "the same cache was written meanwhile" in caplog.text
    Cache(out).check_source(cohort["vcf"])
    assert not list(cohort["tmp"].glob(".new.vcz.*"))


def test_an_empty_directory_at_the_cache_is_taken_over(cohort, monkeypatch):
    """A workflow may create the output directory first; before or during the conversion."""
    made_before, made_meanwhile = cohort["tmp"] / "a.vcz", cohort["tmp"] / "b.vcz"
    made_before.mkdir()
    write_cache(cohort["vcf"], made_before)
    _appears_meanwhile(monkeypatch, made_meanwhile.mkdir)
    write_cache(cohort["vcf"], made_meanwhile)
    for out in (made_before, made_meanwhile):
        Cache(out).check_source(cohort["vcf"])


def test_what_a_killed_conversion_left_is_removed(cohort):
    import socket
    import subprocess

    dead = subprocess.Popen(["true"])
    dead.wait()
    host = socket.gethostname()
    tmp = cohort["tmp"]
    stale = [tmp / f".new.vcz.{host}.{dead.pid}.partial", tmp / f".new.vcz.{host}.{dead.pid}.old"]
    alive = [tmp / f".new.vcz.{host}.1.partial", tmp / f".new.vcz.otherhost.{dead.pid}.partial"]
    for path in stale + alive:
        path.mkdir()
    write_cache(cohort["vcf"], tmp / "new.vcz")
    assert not any(p.exists() for p in stale) and all(p.is_dir() for p in alive)


def test_not_a_cache(tmp_path):
    with pytest.raises(DataError, match="cache directory not found"):
        Cache(tmp_path / "nope.vcz")
    (tmp_path / "empty.vcz").mkdir()
    with pytest.raises(DataError, match="not a vae-genomics cache"):
        Cache(tmp_path / "empty.vcz")


def test_policy_errors_from_the_cache_name_record_and_sample(cohort):
    config = DataConfig(vcf=cohort["vcf"], cache=cohort["cache"], populations=None, min_maf=0.0)
    with pytest.raises(DataError) as err:
        list_sections(config)
    assert "record 1:160 has a missing genotype for sample 'M1'" in str(err.value)
    assert str(cohort["cache"]) in str(err.value)


def test_small_chunks_and_blocks_give_the_same_sections(cohort, monkeypatch):
    """Binary searches across chunk borders and the streamed SNP windows across blocks."""
    from vae_genomics.data import cache as cache_module
    from vae_genomics.data import cache_writer

    monkeypatch.setattr(cache_writer, "META_CHUNK", 8)
    monkeypatch.setattr(cache_module, "_BLOCK", 5)
    small = write_cache(cohort["vcf"], cohort["tmp"] / "small.vcz", chunk_variants=4)
    assert zarr.open_group(str(small), mode="r")["variant_position"].chunks == (8,)
    for settings in SETTINGS[:4]:
        base = {"vcf": cohort["vcf"], "populations": cohort["populations"], "min_maf": 0.0}
        from_vcf = DataConfig(**{**base, **settings})
        from_cache = from_vcf.model_copy(update={"cache": small})
        _, sections = list_sections(from_vcf)
        for section in sections:
            _assert_same_section(
                load_section(from_vcf, section.name), load_section(from_cache, section.name)
            )
