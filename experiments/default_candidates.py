#!/usr/bin/env python
"""Choose the default architecture and optimiser settings on evidence.

Trains every candidate on several cohorts of different shapes and demographies and compares them on
held-out haplotypes: -ELBO (nats per haplotype), importance-weighted NLL (K = 50), active units and
the coverage of posterior-mean reconstructions (Naeem et al. 2020, k = 5, PCA space). Same seed,
split and early stopping for all.

Cohorts (haplotypes × SNPs, MAF >= 1%):
- ``example``: the bundled example's default section (OOA3, 600 × 1,000);
- ``example-wide``: the bundled example's first 5,000 SNPs (600 × 5,000);
- ``ooa-large``: the out-of-Africa model simulated afresh, 834 diploids per population (5,004 × 1,000);
- ``island``: a four-deme symmetric island model (600 × 500);
- ``panmictic``: one constant-size population of 10,000 (2,000 × 2,000).

The simulated cohorts need msprime (``pip install -e .[sim]``).

Usage:
    python -m experiments.default_candidates [--cohorts example,island] [--candidates ...] [--out DIR]
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from vae_genomics.config import Config, deep_merge, load_config
from vae_genomics.data import list_sections
from vae_genomics.evaluation.likelihood import importance_weighted_nll
from vae_genomics.evaluation.metrics import active_units, heldout_objective
from vae_genomics.evaluation.pca import HaplotypePCA
from vae_genomics.evaluation.prdc import prdc
from vae_genomics.models.inference import encode, reconstruct
from vae_genomics.train.fit import fit_vae, split_haplotypes

log = logging.getLogger("default_candidates")
#: The example-data scripts (not a package: they import each other by bare module name).
SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"

#: Candidate settings, as overrides of the configuration.
CANDIDATES: dict[str, dict[str, Any]] = {
    "auto": {},  # the 'auto' rules: 2 layers [n/4, n/16], elu, latent sqrt(n)/4, lr 1e-3, batch 64
    "narrow": {"model": {"hidden_units": "narrow"}},  # 2 layers [n/16, n/64]
    "one-layer": {"model": {"hidden_units": "one"}},  # 1 layer [n/4]
    "relu": {"model": {"activation": "relu"}},
    "dropout-0.2": {"model": {"dropout": 0.2}},
    "latent-4": {"model": {"latent_dim": 4}},
    "latent-16": {"model": {"latent_dim": 16}},
    "latent-16-dropout-0.2": {"model": {"latent_dim": 16, "dropout": 0.2}},
    "trap": {"model": {"activation": "sigmoid", "dropout": 0.5, "latent_dim": "tenth"}},
    "lr-3e-4": {"training": {"learning_rate": 3e-4}},
    "batch-256": {"training": {"batch_size": 256}},
}


def _script(name: str):
    """The module of ``scripts/<name>.py``, loaded once under its bare name."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def _simulator():
    # simulate_example imports check_example and ooa_demography by bare name
    for name in ("ooa_demography", "check_example"):
        _script(name)
    return _script("simulate_example")


def _common_snps(hap: np.ndarray, n_variants: int, min_maf: float = 0.01) -> np.ndarray:
    p = hap.mean(axis=0)
    keep = np.minimum(p, 1 - p) >= min_maf
    hap = hap[:, keep]
    if hap.shape[1] < n_variants:
        raise RuntimeError(f"only {hap.shape[1]} common SNPs simulated, {n_variants} wanted")
    return np.ascontiguousarray(hap[:, :n_variants])


def cohort(name: str, config: Config, seed: int = 1) -> np.ndarray:
    """Haplotypes (int8, haplotypes × SNPs) of the named cohort."""
    if name in ("example", "example-wide"):
        width = 1000 if name == "example" else 5000
        data = config.data.model_copy(update={"window_snps": width})
        matrix, sections = list_sections(data)
        first = sections[0]
        return matrix.haplotypes[:, first.index_start : first.index_start + width]
    import msprime

    if name == "ooa-large":
        ts = _simulator().simulate(samples_per_pop=834, length=2_000_000, seed=seed)
        return _common_snps(ts.genotype_matrix().T.astype(np.int8), 1000)
    if name == "island":
        demography = msprime.Demography.island_model([2500] * 4, migration_rate=2e-4)
        samples = {f"pop_{i}": 75 for i in range(4)}
        length = 1_500_000
    elif name == "panmictic":
        demography = msprime.Demography.isolated_model([10_000])
        samples = {"pop_0": 1000}
        length = 1_500_000
    else:
        raise ValueError(f"unknown cohort {name!r}")
    ts = msprime.sim_ancestry(
        samples, demography=demography, sequence_length=length, recombination_rate=1e-8,
        random_seed=seed,
    )  # fmt: skip
    ts = msprime.sim_mutations(
        ts, rate=1.29e-8, random_seed=seed, model=msprime.BinaryMutationModel()
    )
    width = 500 if name == "island" else 2000
    return _common_snps(ts.genotype_matrix().T.astype(np.int8), width)


def _resolve(raw: dict[str, Any], n_variants: int) -> dict[str, Any]:
    model = raw["model"]
    if model.get("hidden_units") == "narrow":
        h1 = int(np.clip(2 ** round(np.log2(n_variants / 16)), 32, 512))
        model["hidden_units"] = [h1, max(16, h1 // 4)]
    elif model.get("hidden_units") == "one":
        model["hidden_units"] = [int(np.clip(2 ** round(np.log2(n_variants / 4)), 64, 1024))]
    if model.get("latent_dim") == "tenth":
        model["latent_dim"] = max(2, n_variants // 10)
    return raw


def evaluate(model, x_train: np.ndarray, x_val: np.ndarray, seed: int) -> dict[str, float]:
    """Held-out numbers of one fitted model."""
    held = heldout_objective(model, x_val)
    mean, _ = encode(model, x_val)
    pca = HaplotypePCA(n_components=4).fit(x_train)
    real, recon = pca.transform(x_val), pca.transform(reconstruct(model, x_val))
    return {
        "-ELBO": held["neg_elbo"],
        "IW-NLL (K=50)": importance_weighted_nll(model, x_val, n_samples=50, seed=seed)["nll"],
        "KL": held["kl"],
        "AU": active_units(mean)[0],
        "latent": model.latent_dim,
        "coverage": prdc(real, recon, k=5)["coverage"],
    }


def run(cohorts: list[str], candidates: list[str], config_path: Path) -> pd.DataFrame:
    """Train every candidate on every cohort."""
    base = load_config(config_path)
    records = []
    for cohort_name in cohorts:
        x = cohort(cohort_name, base)
        train_rows, val_rows = split_haplotypes(
            len(x), base.training.validation_fraction, base.seed
        )
        log.info("cohort %s: %d haplotypes × %d SNPs", cohort_name, *x.shape)
        for name in candidates:
            raw = _resolve(deep_merge(base.to_dict(), CANDIDATES[name]), x.shape[1])
            config = Config.model_validate(raw)
            fitted = fit_vae(config, x[train_rows], x[val_rows], label=f"{cohort_name}/{name}")
            row = {"cohort": cohort_name, "haplotypes": x.shape[0], "SNPs": x.shape[1],
                   "candidate": name}  # fmt: skip
            row.update(evaluate(fitted.model, x[train_rows], x[val_rows], base.seed))
            row.update(epochs=len(fitted.history["loss"]), seconds=round(fitted.seconds, 1))
            records.append(row)
            log.info("%s", row)
    return pd.DataFrame.from_records(records)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", type=Path, default=Path("configs/example.yaml"))
    parser.add_argument("--cohorts", default="example,example-wide,island,panmictic,ooa-large")
    parser.add_argument("--candidates", default=",".join(CANDIDATES))
    parser.add_argument("--out", type=Path, default=Path("experiments/results"))
    parser.add_argument("--name", default="default_candidates", help="output file stem")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    table = run(args.cohorts.split(","), args.candidates.split(","), args.config)
    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out / f"{args.name}.csv", index=False, float_format="%.4g")
    sys.stdout.write(table.to_string(index=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
