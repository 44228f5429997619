"""Silently wrong results made loud: runs re-opened on other data, training that blew up."""

from __future__ import annotations

import math

import pytest
import yaml
from vcf_factory import structured_haplotypes, vcf_text, write_vcf

from vae_genomics import cli
from vae_genomics.data.matrix import HaplotypeMatrix
from vae_genomics.run.stored import HAPLOTYPES_FILE, data_changes, data_fingerprint
from vae_genomics.train.checks import BLOW_UP_FACTOR, blow_up

SECTION = "1_100-5000"


def _matrix(hap, positions=None) -> HaplotypeMatrix:
    import numpy as np

    n_hap, n_var = hap.shape
    positions = np.arange(1, n_var + 1) * 100 if positions is None else positions
    return HaplotypeMatrix(
        haplotypes=hap, chrom=np.array(["1"] * n_var, object), positions=positions,
        variant_ids=np.array([f"rs{i}" for i in range(n_var)], object),
        ref=np.array(["A"] * n_var, object), alt=np.array(["G"] * n_var, object),
        sample_ids=np.array([f"S{i}" for i in range(n_hap // 2)], object),
        haplotype_ids=np.array([f"H{i}" for i in range(n_hap)], object),
        haplotype_samples=np.array([f"S{i // 2}" for i in range(n_hap)], object),
    )  # fmt: skip


def test_the_data_fingerprint_says_what_changed():
    hap, _ = structured_haplotypes(n_samples=6, n_variants=20)
    stored = data_fingerprint(_matrix(hap))
    assert data_changes(stored, _matrix(hap.copy())) is None
    flipped = hap.copy()
    flipped[0, 0] = 1 - flipped[0, 0]
    assert "other genotypes" in data_changes(stored, _matrix(flipped))
    assert "other sites" in data_changes(stored, _matrix(hap, positions=(1 + hap[0] * 0) * 7))
    assert "20 variants at training, 19 now" in data_changes(stored, _matrix(hap[:, :19]))


def test_blow_up_is_judged_against_a_coin_flip_per_allele():
    coin = 50 * math.log(2)
    assert blow_up(0.5 * coin, 50) is None
    assert blow_up(BLOW_UP_FACTOR * coin * 0.99, 50) is None
    assert "coin flip" in blow_up(BLOW_UP_FACTOR * coin * 1.01, 50)
    assert "not finite" not in blow_up(float("nan"), 50) and "nan" in blow_up(float("nan"), 50)
    assert "inf" in blow_up(float("inf"), 50)


@pytest.mark.slow
def test_report_refuses_a_run_whose_data_changed(tiny_config, tiny_cohort, caplog):
    base = ["train", "--config", str(tiny_config), "--section", SECTION, "--epochs", "1"]
    assert cli.main([*base, "--run-name", "r"]) == 0
    run = tiny_config.parent / "runs" / SECTION / "r"
    fingerprint = yaml.safe_load((run / "config.yaml").read_text())["resolved"]["data"]
    assert fingerprint["n_variants"] == 50 and len(fingerprint["haplotypes_sha256"]) == 64
    # the VCF changes: same samples and sites, other genotypes
    hap = tiny_cohort["haplotypes"].copy()
    hap[:, 3] = 1 - hap[:, 3]
    write_vcf(tiny_cohort["vcf"], vcf_text(hap, samples=tiny_cohort["samples"]))
    # the run carries its own data: its report is unaffected
    assert cli.main(["report", str(run)]) == 0
    # a run without its stored data re-reads the VCF: refused, saying what changed
    (run / HAPLOTYPES_FILE).unlink()
    metrics = (run / "metrics.json").read_bytes()
    caplog.clear()
    assert cli.main(["report", str(run)]) == 2
    assert "the data changed since this run was trained" in caplog.text
    assert "other genotypes" in caplog.text and "tiny.vcf" in caplog.text
    assert (run / "metrics.json").read_bytes() == metrics


@pytest.mark.slow
def test_a_training_that_blew_up_is_not_a_success(tiny_config, caplog):
    config = yaml.safe_load(tiny_config.read_text())
    config["training"]["learning_rate"] = 20.0
    tiny_config.write_text(yaml.safe_dump(config))
    argv = ["train", "--config", str(tiny_config), "--section", SECTION, "--run-name", "lr20"]
    assert cli.main(argv) == 2
    assert "training blew up" in caplog.text and "learning_rate" in caplog.text
    assert "unexpectedly" not in caplog.text
