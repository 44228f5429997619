#!/usr/bin/env python
"""Ancestry fidelity of ``vae-genomics sample --populations``: each group requested alone.

For every population (or, with ``--level superpopulation``, superpopulation) P of a run with at
least 10 training haplotypes, draw ``--n`` haplotypes of P alone (exactly what ``vae-genomics sample
RUN --populations P:N --seed S`` writes: the default generator fitted on all training haplotypes,
its code source refitted on P's training posteriors) and compare them with the run's held-out
haplotypes of P, beside P's training haplotypes (the real-vs-real reference) and beside an
unconditioned sample of the default generator (``--n`` haplotypes, all populations mixed):

- ``assigned``: the fraction a classifier fitted on the training haplotypes and their labels
  (logistic regression on 10 Patterson-scaled PCs, :class:`AncestryClassifier`) assigns to P, of
  synthetic P, of held-out P, and of the unconditioned sample (P's share of it);
- ``AF r``: Pearson r of per-site ALT frequencies with held-out P's;
- ``F_ST``: Hudson's F_ST with held-out P (≈ 0 for two samples of one population).

experiments/notebook/population-conditioning.md was made with it.

Usage:
    python -m experiments.population_conditioning RUN [--level population] [--n 200] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from vae_genomics.commands.population_request import MIN_TEMPLATES
from vae_genomics.commands.sample import draw_haplotypes
from vae_genomics.evaluation.populations import (
    AncestryClassifier,
    allele_frequency_correlation,
    assignment_rate,
    hudson_fst,
)
from vae_genomics.generate.conditional import sample_groups
from vae_genomics.generate.generators import DEFAULT_GENERATOR, make_generator
from vae_genomics.models.inference import encode
from vae_genomics.run.load import LoadedRun, load_run

COLUMNS = (
    ("group", "group"),
    ("n_train", "train hap."),
    ("n_heldout", "held-out hap."),
    ("assigned_synthetic", "assigned: synthetic P"),
    ("assigned_heldout", "assigned: held-out P"),
    ("assigned_unconditioned", "assigned: unconditioned"),
    ("af_r_synthetic", "AF r: synthetic P"),
    ("af_r_train", "AF r: training P"),
    ("af_r_unconditioned", "AF r: unconditioned"),
    ("fst_synthetic", "F_ST: synthetic P"),
    ("fst_train", "F_ST: training P"),
    ("fst_unconditioned", "F_ST: unconditioned"),
)


def labels_of(run: LoadedRun, level: str) -> np.ndarray:
    labels = run.data.populations if level == "population" else run.superpopulations
    if labels is None:
        sys.exit(f"{run.run_dir}: the run has no {level} labels")
    return np.asarray(labels, dtype=object).astype(str)


def measure(run: LoadedRun, level: str, n: int, seed: int) -> list[dict]:
    labels = labels_of(run, level)
    x_train = run.data.matrix.haplotypes[run.train_rows]
    x_val = run.data.matrix.haplotypes[run.val_rows]
    lab_train, lab_val = labels[run.train_rows], labels[run.val_rows]
    names, counts = np.unique(lab_train, return_counts=True)
    groups = [
        g for g, c in zip(names, counts, strict=True)
        if g != "unknown" and c >= MIN_TEMPLATES and (lab_val == g).sum() >= 2
    ]  # fmt: skip
    known = np.isin(lab_train, groups)
    classifier = AncestryClassifier(n_components=10, seed=seed).fit(
        x_train[known], lab_train[known]
    )
    # the generator of `sample --populations`, fitted once (as sample_populations.draw_populations)
    gen = make_generator(DEFAULT_GENERATOR, run.config.evaluation.gmm_max_components)
    mean, log_var = encode(run.model, x_train)
    gen.fit_posteriors(run.model, x_train, mean, log_var, seed=run.config.seed)
    plain = draw_haplotypes(run, n, None, seed)
    plain_pred = classifier.predict(plain)
    rows = []
    for g in groups:
        rows_g = {g: np.flatnonzero(lab_train == g)}
        # alone: the group at position 0, as `sample RUN --populations g:n --seed seed`
        synthetic = sample_groups(
            gen, run.model, mean, log_var, rows_g, {g: n}, seed, fit_seed=run.config.seed
        )[g]
        train_g, held_g = x_train[lab_train == g], x_val[lab_val == g]
        rows.append(
            {
                "group": g,
                "n_train": len(train_g),
                "n_heldout": len(held_g),
                "assigned_synthetic": assignment_rate(classifier.predict(synthetic), g),
                "assigned_heldout": assignment_rate(classifier.predict(held_g), g),
                "assigned_unconditioned": assignment_rate(plain_pred, g),
                "af_r_synthetic": allele_frequency_correlation(synthetic, held_g),
                "af_r_train": allele_frequency_correlation(train_g, held_g),
                "af_r_unconditioned": allele_frequency_correlation(plain, held_g),
                "fst_synthetic": hudson_fst(synthetic, held_g),
                "fst_train": hudson_fst(train_g, held_g),
                "fst_unconditioned": hudson_fst(plain, held_g),
            }
        )
    return rows


def markdown(rows: list[dict]) -> str:
    def cell(value: object) -> str:
        if isinstance(value, float):
            return f"{value:.3f}"
        return str(value)

    lines = [
        "| " + " | ".join(h for _, h in COLUMNS) + " |",
        "| " + " | ".join("---" for _ in COLUMNS) + " |",
    ]
    lines += ["| " + " | ".join(cell(r[k]) for k, _ in COLUMNS) + " |" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, help="run directory or section directory")
    parser.add_argument("--level", choices=["population", "superpopulation"], default="population")
    parser.add_argument("--n", type=int, default=200, help="synthetic haplotypes per group")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    run = load_run(args.run)
    rows = measure(run, args.level, args.n, args.seed)
    print(markdown(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
