"""Sizes without bounds and messages that mislead: counts refused with an estimate, run files
checked from their headers, YAML limits, split.json and tampered runs named."""

from __future__ import annotations

import json
import shutil
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from run_factory import SECTIONS, train_tiny_sections

from vae_genomics import cli
from vae_genomics.common.errors import ConfigError, DataError, RunError
from vae_genomics.config import load_config


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    """The tiny cohort's two sections (50 and 70 sites), trained for one epoch (shared)."""
    return train_tiny_sections(tmp_path_factory.mktemp("limits"))


@pytest.fixture
def copy(runs, tmp_path) -> Path:
    """A copy of the first section's run, to tamper with."""
    return Path(shutil.copytree(runs["run"], tmp_path / "r"))


def _load(run: Path):
    from vae_genomics.run.load import load_run

    return load_run(run)


# --- sample --n: the memory estimate ------------------------------------------------------------


def test_a_huge_n_is_refused_at_once_with_its_memory_estimate(runs, tmp_path, caplog):
    started = time.monotonic()
    out = str(tmp_path / "x.vcf.gz")
    assert cli.main(["sample", str(runs["run"]), "--n", "10000000", "--out", out]) == 2
    assert "10,000,000 haplotypes × 50 sites" in caplog.text and "--max-memory" in caplog.text
    # the default generator draws a block at a time: 10^7 × (7 bytes of bits + 1 KB of codes)
    assert "(drawn in blocks) needs about 9.6 GB" in caplog.text and "4.0 GB" in caplog.text
    caplog.clear()
    prior = ["sample", str(runs["run"]), "--n", "10000000", "--sampler", "prior", "--out", out]
    assert cli.main(prior) == 2 and "14.9 GB" in caplog.text  # held whole: 32 bytes a call
    caplog.clear()
    region = ["sample", "--runs", str(runs["runs"]), "--n", "10000000", "--out", out]
    # a region streams: its largest section (70 of its 120 sites) is what is held
    assert cli.main(region) == 2 and "× 70 sites of the largest section" in caplog.text
    assert time.monotonic() - started < 10 and not Path(out).exists()
    # the limit is an option; a size that is not one is named
    caplog.clear()
    assert (
        cli.main(["sample", str(runs["run"]), "--n", "40", "--max-memory", "1K", "--out", out]) == 2
    )
    assert "more than the limit of 1.0 KB" in caplog.text
    assert cli.main(["sample", str(runs["run"]), "--n", "4", "--max-memory", "lots"]) == 2
    from vae_genomics.commands.sample_region import run_region

    with pytest.raises(DataError, match="needs about"):
        run_region(runs["runs"], 1000, out=out, max_memory="10K")


def test_a_region_drawn_section_by_section_is_estimated_per_block():
    from vae_genomics.common.limits import (
        BLOCK_HAPLOTYPES,
        BYTES_PER_CALL,
        STREAMED_BYTES_PER_HAPLOTYPE,
        check_sample_memory,
        human_bytes,
        largest_sample,
        sample_memory,
    )

    # the closed form: every haplotype's calls (bits) and codes, one block's logits and uniforms
    n, sites = 100_000, 3_164
    expected = n * (396 + STREAMED_BYTES_PER_HAPLOTYPE)  # 3,164 bits in 396 bytes
    expected += BLOCK_HAPLOTYPES * sites * BYTES_PER_CALL
    assert sample_memory(n, sites, streamed=True) == expected
    assert sample_memory(n, sites) == n * sites * BYTES_PER_CALL
    # the chromosome's 100,000 haplotypes fit the default limit streamed, not held whole
    assert check_sample_memory(n, sites, None, "a region", streamed=True) == expected
    with pytest.raises(DataError, match="Draw at most 42,420 haplotypes"):
        check_sample_memory(n, sites, None, "a section")
    # a limit below what two haplotypes need offers no smaller draw: only a larger limit
    two = human_bytes(sample_memory(2, sites, streamed=True))
    with pytest.raises(DataError, match=rf"Even 2 haplotypes need about {two}: raise the limit"):
        check_sample_memory(2, sites, "1K", "a run", streamed=True)
    # a whole region decoded in blocks (--populations): every site as bits, every section's codes
    from vae_genomics.common.limits import CODE_BYTES_PER_SECTION, region_block

    whole_region = sample_memory(n, 40_160, streamed=True, held_sections=36)
    block = region_block(40_160)
    assert block == 2**28 // (32 * 40_160) == 208
    each = 5_020 + STREAMED_BYTES_PER_HAPLOTYPE + 35 * CODE_BYTES_PER_SECTION
    assert whole_region == n * each + block * 40_160 * BYTES_PER_CALL
    assert region_block(10) == BLOCK_HAPLOTYPES and region_block(10**7) == 64
    # under a block, each haplotype holds its share of the block too
    assert sample_memory(10, sites, streamed=True) == 10 * (396 + 1024 + sites * 32)
    # the N the message offers is the largest that passes, for limits below and above a block
    for limit in (10**6, 10**8, 4 * 2**30):
        for streamed, held in ((False, 1), (True, 1), (True, 36)):
            k = largest_sample(sites, limit, streamed, held)
            assert k % 2 == 0 and sample_memory(k, sites, streamed, held) <= limit
            assert sample_memory(k + 2, sites, streamed, held) > limit
            check_sample_memory(k, sites, limit, "x", streamed, held)


def test_a_region_sampled_from_the_cli_estimates_its_memory_once(runs, tmp_path, caplog):
    caplog.set_level("INFO")
    out = tmp_path / "r.vcf.gz"
    region = ["sample", "--runs", str(runs["runs"]), "--n", "4", "--out", str(out)]
    assert cli.main([*region, "--privacy", "off", "--no-report"]) == 0 and out.is_file()
    # once before TensorFlow starts (the CLI), not again in run_region
    assert caplog.text.count("drawing 4 haplotypes × 70 sites") == 1, caplog.text


def test_a_run_sampled_in_blocks_writes_the_draws_of_the_api(runs, tmp_path, caplog):
    from cyvcf2 import VCF

    from vae_genomics.commands.sample import draw_haplotypes, draw_release
    from vae_genomics.data.packed import PackedHaplotypes

    caplog.set_level("INFO")
    run = _load(runs["run"])
    expected = draw_haplotypes(run, 40, seed=3)
    packed = draw_release(run, 40, seed=3)
    assert isinstance(packed, PackedHaplotypes)
    np.testing.assert_array_equal(np.asarray(packed), expected)
    out = tmp_path / "s.vcf.gz"
    args = ["sample", str(runs["run"]), "--n", "40", "--seed", "3", "--privacy", "off"]
    assert cli.main([*args, "--out", str(out)]) == 0
    gts = np.array([r.genotype.array()[:, :2] for r in VCF(str(out))])  # (sites, samples, 2)
    np.testing.assert_array_equal(gts.reshape(len(gts), -1).T, expected)
    assert "× 50 sites of run" in caplog.text and "(drawn in blocks)" in caplog.text
    # prior and gmm hold every draw: estimated as before, and drawn as an array
    caplog.clear()
    prior = tmp_path / "p.vcf.gz"
    assert cli.main([*args, "--sampler", "prior", "--out", str(prior)]) == 0
    assert "(drawn in blocks)" not in caplog.text and "about 62.5 KB" in caplog.text
    assert isinstance(draw_release(run, 4, "prior", seed=3), np.ndarray)


# --- run files checked from their headers --------------------------------------------------------


def _replace_member(path: Path, name: str, shape: tuple, dtype: str, fill: int) -> None:
    """Rewrite ``name`` of an .npz with a header claiming ``shape`` and ``fill`` zero bytes."""
    members = {}
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            members[info.filename] = archive.read(info)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, data in members.items():
            if member != f"{name}.npy":
                archive.writestr(member, data)
        with archive.open(f"{name}.npy", "w", force_zip64=True) as handle:
            np.lib.format.write_array_header_1_0(
                handle, {"descr": np.dtype(dtype).str, "fortran_order": False, "shape": shape}
            )
            for start in range(0, fill, 2**20):
                handle.write(bytes(min(2**20, fill - start)))


def test_a_haplotypes_file_claiming_16_million_sites_is_refused_before_allocating(copy):
    path = copy / "haplotypes.npz"  # 80 haplotypes × 50 sites
    _replace_member(path, "haplotypes_packed", (80, 2_000_000), "u1", 0)  # header only
    assert path.stat().st_size < 2_000_000
    started = time.monotonic()
    with pytest.raises(RunError, match=r"haplotypes\.npz: .*(shape|bytes)"):
        _load(copy)
    assert time.monotonic() - started < 10
    # consistent sizes in the zip too (zeros inflating to 160 MB): the run's sites decide
    _replace_member(path, "haplotypes_packed", (80, 2_000_000), "u1", 160_000_000)
    with pytest.raises(RunError, match=r"haplotypes\.npz: .*expected \(80, 7\).* 50 sites"):
        _load(copy)


def test_a_mixture_of_two_million_components_or_tampered_values_is_refused(copy):
    path = copy / "gmm.npz"
    _replace_member(path, "weights", (2_000_000,), "<f8", 16_000_000)
    with pytest.raises(
        RunError, match=r"gmm\.npz: .*\(2000000,\) mixture weights; this run allows"
    ):
        _load(copy)
    good = {"weights": np.array([0.5, 0.5]), "means": np.zeros((2, 2)),
            "covariances": np.stack([np.eye(2)] * 2)}  # fmt: skip
    for change, message in (
        ({"means": np.array([[np.nan, 0], [0, 0]])}, "NaN or infinite"),
        ({"weights": np.array([0.5, 0.6])}, "not a distribution"),
        ({"covariances": np.stack([np.eye(2), -np.eye(2)])}, "positive definite"),
        ({"means": np.zeros((2, 5))}, "expected \\(2, 2\\)"),
    ):
        np.savez_compressed(path, **{**good, **change})
        with pytest.raises(RunError, match=rf"gmm\.npz: .*{message}"):
            _load(copy)
    np.savez_compressed(path, **good)
    assert _load(copy).gmm.n_components_ == 2


def test_a_model_of_another_width_is_named(runs, copy):
    shutil.copy(runs["runs"] / SECTIONS[1] / "r" / "model.keras", copy / "model.keras")
    with pytest.raises(RunError, match=r"model\.keras: .*takes 70 sites, but the run has 50"):
        _load(copy)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda s: {**s, "validation": []}, "held-out list 'validation' is empty"),
        (lambda s: {**s, "validation": [*s["validation"], s["train"][0]]}, "both as training"),
        (lambda s: {**s, "train": [*s["train"], s["train"][0]]}, "more than once"),
        (lambda s: {**s, "train": [*s["train"], "NOBODY_0"]}, "'NOBODY_0'.* not in its data"),
        (lambda s: {**s, "train": "S000_0"}, "not a list of haplotype IDs"),
    ],
)
def test_a_tampered_split_is_named_with_the_first_offending_ids(copy, edit, message):
    path = copy / "split.json"
    path.write_text(json.dumps(edit(json.loads(path.read_text()))))
    with pytest.raises(RunError, match=rf"split\.json: .*{message}"):
        _load(copy)


@pytest.mark.slow
def test_a_damaged_run_blocks_only_a_region_it_is_part_of(runs, tmp_path, caplog):
    root = Path(shutil.copytree(runs["runs"], tmp_path / "runs", symlinks=True))
    config = root / SECTIONS[1] / "r" / "config.yaml"
    config.write_text("resolved: [unclosed")
    args = ["sample", "--runs", str(root), "--n", "4", "--no-report"]
    assert cli.main([*args, "--sections", SECTIONS[0]]) == 0
    caplog.clear()
    assert cli.main([*args, "--sections", SECTIONS[1], "--out", str(tmp_path / "b.vcf.gz")]) == 2
    assert f"{SECTIONS[1]}/r/config.yaml" in caplog.text and "unexpectedly" not in caplog.text
    caplog.clear()
    assert cli.main([*args, "--out", str(tmp_path / "all.vcf.gz")]) == 2  # every section
    assert "config.yaml" in caplog.text and "unexpectedly" not in caplog.text


# --- YAML and messages --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [("a: " + "[" * 10000, "nested more than 64 levels"), ("seed: " + "9" * 5000, "5000 digits")],
)
def test_deep_nesting_and_huge_integers_are_config_errors_naming_the_file(tmp_path, text, message):
    path = tmp_path / "deep.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=rf"deep\.yaml: .*{message}"):
        load_config(path)
    from vae_genomics.commands.options import parse_settings

    with pytest.raises(ConfigError, match="--set"):
        parse_settings(["seed=" + "9" * 5000])


def test_a_changed_config_on_resume_names_overwrite(tmp_path, tiny_config):
    from vae_genomics.train.fit import fit_vae

    config = load_config(tiny_config, overrides={"training": {"epochs": 1}})
    x = (np.random.default_rng(0).random((40, 20)) < 0.3).astype(np.int8)
    path = tmp_path / "state.npz"
    fit_vae(config, x[:32], x[32:], checkpoint=path, fingerprint="a")
    with pytest.raises(RunError, match="Pass --overwrite instead of --resume"):
        fit_vae(config, x[:32], x[32:], checkpoint=path, fingerprint="b")
