#!/usr/bin/env python
"""Exact copies of haplotypes seen several times in training, beside the default generator.

In a dense section most real haplotypes are exact copies of another one, so the real-vs-real
AATS is low and a generator that never copies cannot reach it. A haplotype carried by K or more
training haplotypes does not single out one of them (k-anonymity), so copying only those might
bring AATS down without the privacy loss going up. Each seed:

- draws 4 n candidates from the default generator (n = the run's held-out count) and counts, for
  each, how many training haplotypes it equals (0: novel);
- ``default``: the first n candidates (the default generator as shipped);
- ``copiesK``: each haplotype is, with the leave-one-out copy rate of the training set (the share
  of training haplotypes equal to another one), a copy of a random training haplotype whose
  class has >= K members; otherwise a novel candidate (equal to no training haplotype);
- ``copiesK/guard``: the same, the novel part chosen by the copy guard
  (:func:`~vae_genomics.generate.guard.select_matching`) to follow the leave-one-out distances
  of the training haplotypes that are not copies;

and scores every set and the real-vs-real ceiling like ``generator_table.py``. Prints one
Markdown row per cohort and set: means over seeds, ± the SD of the privacy loss.
experiments/notebook/copy-guard.md ("Copies of haplotypes seen several times") was made with it.

Usage:
    python -m experiments.frequent_copies --run example=runs/<section>/<run> [--run ...]
        [--seeds 8] [--sets default copies2 copies3 copies5 copies3/guard]
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np

from experiments.seed_tables import mean_cells
from vae_genomics.evaluation.modeseek import mode_seeking_report
from vae_genomics.evaluation.privacy import nn_distances
from vae_genomics.evaluation.realism import common_size, realism_ceiling, realism_panel
from vae_genomics.evaluation.verdict import VerdictThresholds
from vae_genomics.generate.generators import DEFAULT_GENERATOR, make_generator
from vae_genomics.generate.guard import leave_one_out_distances, select_matching
from vae_genomics.models.inference import encode
from vae_genomics.run.load import load_run

log = logging.getLogger("frequent_copies")

SETS = ("default", "copies2", "copies3", "copies5", "copies3/guard")
POOL = 4  # candidates per kept haplotype
KEYS = ("cov PCA", "cov Ham", "VR PC1", "VR PC2", "VR PC3", "VR PC4", "LD r", "AATS",
        "privacy loss", "copies")  # fmt: skip


def class_sizes(train: np.ndarray) -> tuple[dict[bytes, int], np.ndarray]:
    """Each distinct training haplotype's count, and each training row's class size (n_train,)."""
    keys = [row.tobytes() for row in np.packbits(train.astype(np.uint8), axis=1)]
    counts: dict[bytes, int] = {}
    for key in keys:
        counts[key] = counts.get(key, 0) + 1
    return counts, np.array([counts[key] for key in keys])


def times_in_training(samples: np.ndarray, counts: dict[bytes, int]) -> np.ndarray:
    """How many training haplotypes each sample (m, n_variants) equals; 0 for a novel one."""
    rows = np.packbits(samples.astype(np.uint8), axis=1)
    return np.array([counts.get(row.tobytes(), 0) for row in rows])


def build_set(
    name: str,
    candidates: np.ndarray,
    seen: np.ndarray,
    train: np.ndarray,
    sizes: np.ndarray,
    n: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """The set ``name`` (see the module docstring), shape (n, n_variants)."""
    if name == "default":
        return candidates[:n]
    spec, _, guard = name.partition("/")
    k = int(spec.removeprefix("copies"))
    frequent = np.flatnonzero(sizes >= k)
    n_copies = int(rng.binomial(n, np.mean(sizes >= 2))) if len(frequent) else 0
    copies = train[rng.choice(frequent, n_copies)] if n_copies else train[:0]
    novel = np.flatnonzero(seen == 0)
    if guard:
        target = leave_one_out_distances(train, rng)
        novel = novel[select_matching(nn_distances(candidates[novel], train), target[target > 0],
                                      n - n_copies, rng)]  # fmt: skip
    else:
        novel = novel[: n - n_copies]
    if len(copies) + len(novel) < n:
        raise RuntimeError(f"{name}: only {len(novel)} novel candidates for {n - n_copies}")
    return np.concatenate([copies, candidates[novel]]).astype(np.int8)


def score(label: str, run_dir: Path, names: list[str], seed: int) -> dict[str, dict]:
    """Rows (name -> column -> value) of one run and seed, the ceiling as ``real (ceiling)``."""
    run = load_run(run_dir)
    x = run.data.matrix.haplotypes
    train, heldout = x[run.train_rows], x[run.val_rows]
    positions = run.data.matrix.positions
    n = len(heldout)
    gen = make_generator(DEFAULT_GENERATOR)
    mean, log_var = encode(run.model, train)
    gen.fit_posteriors(run.model, train, mean, log_var, seed)
    candidates = gen.sample(run.model, POOL * n, seed=seed)["samples"]
    counts, sizes = class_sizes(train)
    seen = times_in_training(candidates, counts)
    rng = np.random.default_rng(1000 + seed)
    sets = {name: build_set(name, candidates, seen, train, sizes, n, rng) for name in names}
    ms = mode_seeking_report(train, heldout, sets, thresholds=VerdictThresholds(), seed=seed)
    size = common_size(n, n, len(train), 1000)
    panels = {"real (ceiling)": realism_ceiling(train, heldout, positions, seed=seed, size=size)}
    reports = {"real (ceiling)": ms["ceiling"]}
    for name, samples in sets.items():
        panels[name] = realism_panel(samples, train, heldout, positions, seed=seed, size=size)
        reports[name] = ms["sets"][name]
    rows = {}
    for name, panel in panels.items():
        rep = reports[name]
        values = [rep["prdc_pca"]["coverage"], rep["prdc_hamming"]["coverage"],
                  *(rep["variance_ratio"] + [np.nan] * 4)[:4], rep["ld"]["pearson_r"],
                  panel["aats_heldout"], panel["privacy_loss"], panel["exact_copy_fraction"]]  # fmt: skip
        rows[name] = dict(zip(KEYS, values, strict=True))
    losses = ", ".join(f"{k} {r['privacy loss']:.3f}" for k, r in rows.items())
    log.info("%s seed %d privacy loss: %s", label, seed, losses)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", action="append", required=True, help="LABEL=RUN_DIR (repeatable)")
    parser.add_argument("--seeds", type=int, default=8, help="seeds 0 .. N-1")
    parser.add_argument("--sets", nargs="+", default=list(SETS))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    print("| cohort | set | " + " | ".join(KEYS) + " |")
    print("|" + " --- |" * (len(KEYS) + 2))
    for item in args.run:
        label, _, path = item.partition("=")
        found: dict[str, list[dict]] = {}
        for seed in range(args.seeds):
            for name, row in score(label, Path(path), args.sets, seed).items():
                found.setdefault(name, []).append(row)
        for name, rows in found.items():
            cells = mean_cells(rows, KEYS, lambda key: key == "privacy loss")
            print(f"| {label} | {name} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
