#!/usr/bin/env python
"""Decoding followed by mutation: does flipping alleles after decoding buy privacy cheaply?

For each run and seed, the default generator draws a set as large as the held-out one; each
allele is then flipped with probability ``rate`` (independently per haplotype and site). The rates
tried are multiples of the real "novelty" rate: the mean Hamming distance from a held-out
haplotype to its nearest training haplotype, per site. Each set is scored as the report scores the
generated set: privacy loss (AATS, Yale et al. 2020; mean over subset draws), coverage in PCA and
Hamming space as a fraction of the real-vs-real ceiling's, and the LD-decay error. Prints one
Markdown row per run and rate (mean ± SD over seeds).

Usage:
    python -m experiments.mutation_after_decoding RUN [RUN ...] [--seeds 4]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from vae_genomics.common.hamming import nn_distances
from vae_genomics.evaluation.modeseek import mode_seeking_report
from vae_genomics.evaluation.realism import realism_ceiling, realism_panel
from vae_genomics.generate.generators import DEFAULT_GENERATOR, make_generator
from vae_genomics.run.load import load_run

MULTIPLES = (0.0, 0.25, 0.5, 1.0, 2.0)


def score(x: np.ndarray, x_train: np.ndarray, x_val: np.ndarray, positions: np.ndarray,
          seed: int, ceiling: dict) -> dict[str, float]:  # fmt: skip
    """Privacy loss, coverage fractions of the ceiling and LD-decay error of one set."""
    panel = realism_panel(x, x_train, x_val, positions, seed=seed)
    modes = mode_seeking_report(x_train, x_val, {"set": x}, seed=seed)
    out = {"privacy_loss": panel["privacy_loss"], "ld_decay_mae": panel["ld_decay"]["mae"]}
    for space in ("pca", "hamming"):
        got = modes["sets"]["set"][f"prdc_{space}"]["coverage"]
        out[f"coverage_{space}"] = got / modes["ceiling"][f"prdc_{space}"]["coverage"]
    out["ceiling_privacy_loss"] = ceiling["privacy_loss"]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", type=Path, nargs="+", help="finished run directories")
    parser.add_argument("--seeds", type=int, default=4, help="seeds 0 .. N-1")
    args = parser.parse_args(argv)
    print("| run | flip rate (× novelty) | privacy loss (ceiling) | coverage PCA ÷ ceiling | "
          "coverage Hamming ÷ ceiling | LD-decay MAE |\n|---|---|---|---|---|---|")  # fmt: skip
    for run_dir in args.runs:
        run = load_run(run_dir)
        x = run.data.matrix.haplotypes
        x_train, x_val = x[run.train_rows], x[run.val_rows]
        positions = run.data.matrix.positions
        novelty = float(nn_distances(x_val, x_train).mean()) / x.shape[1]
        ceiling = realism_ceiling(x_train, x_val, positions, seed=0)
        rows: dict[float, list[dict[str, float]]] = {m: [] for m in MULTIPLES}
        for seed in range(args.seeds):
            gen = make_generator(DEFAULT_GENERATOR, run.config.evaluation.gmm_max_components)
            gen.fit(run.model, x_train, seed=seed)
            base = gen.sample(run.model, len(x_val), seed=seed)["samples"].astype(np.int8)
            rng = np.random.default_rng([seed, 7])
            for m in MULTIPLES:
                flips = rng.random(base.shape) < m * novelty
                rows[m].append(score(base ^ flips, x_train, x_val, positions, seed, ceiling))
        for m, scores in rows.items():

            def cell(key: str, scores: list = scores) -> str:
                values = np.array([s[key] for s in scores])
                return f"{values.mean():.3f} ± {values.std(ddof=1):.3f}"

            print(f"| {run.data.section.name} | {m * novelty:.4f} ({m:g}×) | "
                  f"{cell('privacy_loss')} ({ceiling['privacy_loss']:.3f}) | "
                  f"{cell('coverage_pca')} | {cell('coverage_hamming')} | {cell('ld_decay_mae')} |",
                  flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
