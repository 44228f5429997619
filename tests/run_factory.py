"""A tiny cohort's two sections trained for one epoch: the runs several test modules share."""

from __future__ import annotations

from pathlib import Path

import yaml
from vcf_factory import structured_haplotypes, vcf_text, write_vcf

SECTIONS = ("1_100-5000", "1_5100-12000")


def train_tiny_sections(tmp: Path) -> dict:
    """Write the 40-sample, 120-SNP cohort under ``tmp`` and train its two sections (50 and 70
    sites) as run ``r``: ``tmp``, ``runs``, ``run`` (the first section's run) and ``vcf``."""
    from vae_genomics import cli

    hap, _ = structured_haplotypes(n_samples=40, n_variants=120)
    vcf = write_vcf(tmp / "tiny.vcf", vcf_text(hap, samples=[f"S{i:03d}" for i in range(40)]))
    config = {
        "seed": 7,
        "runs_dir": str(tmp / "runs"),
        "sections_dir": str(tmp / "sections"),
        "data": {"vcf": str(vcf), "min_maf": 0.0, "window_snps": 50},
        "model": {"latent_dim": 2, "hidden_units": [16, 8]},
        "training": {"jit_compile": False, "epochs": 1, "batch_size": 16, "patience": 1},
        "report": {"dpi": 50, "n_components": 2, "figures": False},
        "evaluation": {"iw_samples": 2, "elbo_samples": 1},
        "generation": {"privacy": "off"},  # toy models: the gate is tested on its own
    }
    (tmp / "config.yaml").write_text(yaml.safe_dump(config))
    for section in SECTIONS:
        args = ["train", "--config", str(tmp / "config.yaml"), "--section", section]
        assert cli.main([*args, "--run-name", "r"]) == 0
    return {"tmp": tmp, "runs": tmp / "runs", "run": tmp / "runs" / SECTIONS[0] / "r", "vcf": vcf}
