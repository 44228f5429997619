"""Shared fixtures: a tiny structured cohort on disk and a config that points at it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).parent))

from vcf_factory import structured_haplotypes, vcf_text, write_vcf


@pytest.fixture
def tiny_cohort(tmp_path: Path) -> dict:
    """A 40-sample, 120-SNP, two-population cohort as VCF plus population file."""
    hap, pops = structured_haplotypes(n_samples=40, n_variants=120)
    samples = [f"S{i:03d}" for i in range(40)]
    vcf = write_vcf(tmp_path / "tiny.vcf", vcf_text(hap, samples=samples))
    popfile = tmp_path / "pops.tsv"
    popfile.write_text(
        "sample\tpopulation\n" + "".join(f"{s}\tP{p}\n" for s, p in zip(samples, pops, strict=True))
    )
    return {"vcf": vcf, "populations": popfile, "haplotypes": hap, "samples": samples}


@pytest.fixture
def tiny_config(tmp_path: Path, tiny_cohort: dict) -> Path:
    """A config training the tiny cohort in seconds (sections of 50 SNPs; without XLA, whose
    compilation costs a tiny model more than it saves: tests/test_training_options.py covers it),
    and without report figures (seconds a run; the tests that look at them turn them on)."""
    config = {
        "seed": 7,
        "runs_dir": str(tmp_path / "runs"),
        "sections_dir": str(tmp_path / "sections"),
        "data": {
            "vcf": str(tiny_cohort["vcf"]),
            "populations": str(tiny_cohort["populations"]),
            "min_maf": 0.0,
            "window_snps": 50,
        },
        "model": {"latent_dim": 3, "hidden_units": [32, 16]},
        "training": {"jit_compile": False, "epochs": 3, "batch_size": 16, "patience": 2},
        # figures drawn where a test looks at them (--set report.figures=true)
        "report": {"figures": False},
        # samples of these toy models are released unchecked; test_privacy_budget checks the gate
        "generation": {"privacy": "off"},
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)
