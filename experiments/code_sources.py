#!/usr/bin/env python
"""Code sources between the aggregate posterior and a smooth density, scored for realism and
privacy on a finished run's held-out haplotypes (one shared LD head, the default decoder).

Sources (``--sources``):
    aggregate:S   the product's: a training haplotype's posterior, its sd inflated S times
    kde:H         a training haplotype's posterior mean plus H × the aggregate's per-dimension sd
                  of noise (a kernel density of bandwidth H on the codes)
    knn:K         a random convex combination of a training code's K nearest training codes
    mix:L         a training code moved towards another, random, one by a fraction ~ U(0, L)
    gmm:K         a K-component Gaussian mixture on the posteriors (BIC up to K)
    prior         N(0, I)

Usage:
    python -m experiments.code_sources --run LABEL=runs/<section>/<run> [--run ...] \
        --sources aggregate:1.5 kde:0.25 kde:0.5 mix:0.5 gmm:64 --seeds 2
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from experiments.seed_tables import mean_cells
from vae_genomics.evaluation.modeseek import mode_seeking_report
from vae_genomics.evaluation.realism import common_size, realism_ceiling, realism_panel
from vae_genomics.evaluation.verdict import VerdictThresholds
from vae_genomics.generate.generators import DEFAULT_GENERATOR, Generator, make_source
from vae_genomics.models.inference import encode
from vae_genomics.run.load import load_run


@dataclass
class KernelSource:
    """A training code plus H × the aggregate sd of Gaussian noise (``kde:H``)."""

    name: str
    bandwidth: float
    mean: np.ndarray | None = None
    scale: np.ndarray | None = None

    def fit(self, mean, log_var, seed=0):
        self.mean = np.asarray(mean, dtype=np.float64)
        self.scale = self.mean.std(axis=0)
        return self

    def codes(self, n, rng):
        rows = rng.integers(0, len(self.mean), n)
        return self.mean[rows] + self.bandwidth * self.scale * rng.standard_normal(
            (n, self.mean.shape[1])
        )


@dataclass
class MixSource:
    """A training code moved towards another random one by a fraction U(0, L) (``mix:L``)."""

    name: str
    fraction: float
    mean: np.ndarray | None = None

    def fit(self, mean, log_var, seed=0):
        self.mean = np.asarray(mean, dtype=np.float64)
        return self

    def codes(self, n, rng):
        a, b = rng.integers(0, len(self.mean), n), rng.integers(0, len(self.mean), n)
        lam = rng.uniform(0, self.fraction, (n, 1))
        return (1 - lam) * self.mean[a] + lam * self.mean[b]


@dataclass
class NeighbourSource:
    """A random convex combination (Dirichlet(1, ..., 1)) of a training code's K nearest
    training codes, itself included (``knn:K``): each code leans on K training haplotypes."""

    name: str
    k: int
    mean: np.ndarray | None = None
    neighbours: np.ndarray | None = None

    def fit(self, mean, log_var, seed=0):
        from sklearn.neighbors import NearestNeighbors

        self.mean = np.asarray(mean, dtype=np.float64)
        nn = NearestNeighbors(n_neighbors=self.k).fit(self.mean)
        self.neighbours = nn.kneighbors(self.mean, return_distance=False)
        return self

    def codes(self, n, rng):
        rows = rng.integers(0, len(self.mean), n)
        w = rng.dirichlet(np.ones(self.k), n)
        return np.einsum("nk,nkd->nd", w, self.mean[self.neighbours[rows]])


def source(name: str):
    kind, _, value = name.partition(":")
    if kind == "knn":
        return NeighbourSource(name, int(value))
    if kind == "kde":
        return KernelSource(name, float(value))
    if kind == "mix":
        return MixSource(name, float(value))
    if kind == "gmm" and value:
        return make_source("gmm", int(value))
    return make_source(name)


def score(label: str, run_dir: Path, sources: list[str], seed: int) -> list[dict]:
    run = load_run(run_dir)
    x = run.data.matrix.haplotypes
    x_train, x_val = x[run.train_rows], x[run.val_rows]
    positions = run.data.matrix.positions
    mean, log_var = encode(run.model, x_train)
    decoder = DEFAULT_GENERATOR.partition("/")[2]
    head = None
    sets = {}
    for name in sources:
        gen = Generator(source(name), decoder)
        if head is None:
            gen.fit_posteriors(run.model, x_train, mean, log_var, seed)
            head = gen.head
        else:
            gen.source.fit(mean, log_var, seed)
            gen.head = head
        sets[name] = gen.sample(run.model, len(x_val), seed=seed)["samples"]
    ms = mode_seeking_report(x_train, x_val, sets, thresholds=VerdictThresholds(), seed=seed)
    size = common_size(len(x_val), len(x_val), len(x_train), 1000)
    ceiling = realism_ceiling(x_train, x_val, positions, seed=seed, size=size)
    cm = ms["ceiling"]
    rows = []
    for name, samples in sets.items():
        panel = realism_panel(samples, x_train, x_val, positions, seed=seed, size=size)
        m = ms["sets"][name]
        rows.append({
            "cohort": label, "source": name,
            "cov PCA": m["prdc_pca"]["coverage"] / cm["prdc_pca"]["coverage"],
            "cov Ham": m["prdc_hamming"]["coverage"] / cm["prdc_hamming"]["coverage"],
            "LD r": m["ld"]["pearson_r"],
            "loss excess": panel["privacy_loss"] - ceiling["privacy_loss"],
            "AUC excess": panel["distance_attack_auc"] - ceiling["distance_attack_auc"],
        })  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", action="append", required=True, help="LABEL=RUN_DIR")
    parser.add_argument("--sources", nargs="+", required=True)
    parser.add_argument("--seeds", type=int, default=2)
    args = parser.parse_args(argv)
    keys = ("cov PCA", "cov Ham", "LD r", "loss excess", "AUC excess")
    print("| cohort | source | " + " | ".join(keys) + " |")
    print("|" + " --- |" * (len(keys) + 2))
    for item in args.run:
        label, _, path = item.partition("=")
        found: dict[str, list[dict]] = {}
        for seed in range(args.seeds):
            for row in score(label, Path(path), args.sources, seed):
                found.setdefault(row["source"], []).append(row)
        for name, rows in found.items():
            cells = mean_cells(rows, keys, lambda key: "excess" in key)
            print(f"| {label} | {name} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
