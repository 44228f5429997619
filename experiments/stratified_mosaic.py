#!/usr/bin/env python
"""The region mosaic with switches kept inside each template's population, against the default.

The default mosaic (``MosaicPosterior``) starts each synthetic haplotype on a random training
haplotype and, at every section boundary, switches to one of that haplotype's M nearest
neighbours in the section's latent space, whatever their population. Over a few sections this
keeps boundary LD and coverage at the ceiling; over a chromosome of 36 sections a haplotype can
wander across population structure, one switch at a time. The ``stratified`` mosaic first draws
each synthetic haplotype's population with the training haplotypes' proportions, then runs that
population's own mosaic (templates and switches among its training haplotypes only, as
``sample --populations`` does): the model ``sample --mosaic-groups`` now uses by default, drawn
from another random stream. Both are decoded with the same region head and scored by the
region page's own numbers (:func:`vae_genomics.evaluation.region.evaluate_region`), beside the
real-vs-real ceiling, over several draw seeds.

Usage:
    python -m experiments.stratified_mosaic RUNS --sections A,B,... [--seeds 2] [--level population]
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from vae_genomics.evaluation.boundary_ld import CEILING
from vae_genomics.evaluation.region import evaluate_region
from vae_genomics.generate.mosaic import DEFAULT_SWITCH_SITES, MosaicPosterior, default_neighbours
from vae_genomics.generate.region import (
    DEFAULT_DECODER,
    boundary_alleles,
    decode_region,
    fit_region_head,
    training_groups,
    training_posteriors,
)
from vae_genomics.run.region import load_region

COLUMNS = ["coverage_pca_fraction", "coverage_hamming_fraction", "boundary_ld_r_fraction",
           "boundaries_at_target", "aats", "privacy_loss", "privacy_loss_sd"]  # fmt: skip


def stratified_codes(means, stds, labels, n, rng, neighbours, seed) -> list[np.ndarray]:
    """Codes of ``n`` haplotypes: populations drawn with the training proportions, then each
    population's own mosaic (``neighbours`` None: scaled to the population's size)."""
    names, counts = np.unique(labels, return_counts=True)
    drawn = rng.multinomial(n, counts / counts.sum())
    codes = [np.empty((n, m.shape[1])) for m in means]
    start = 0
    for name, count in zip(names, drawn, strict=True):
        rows = np.flatnonzero(labels == name)
        model = MosaicPosterior(neighbours, seed=seed).fit([m[rows] for m in means],
                                                           [s[rows] for s in stds])  # fmt: skip
        for k, z in enumerate(model.sample(int(count), rng)):
            codes[k][start : start + count] = z
        start += count
    return codes


def prepared(runs: str, sections: str) -> tuple:
    """The region, its training posteriors (means, stds), its LD head, and its training and
    held-out haplotypes."""
    region = load_region(runs, sections.split(","))
    started = time.perf_counter()
    means, stds = training_posteriors(region)
    head = fit_region_head(region, DEFAULT_DECODER, seed=region.seed)
    print(f"posteriors and head: {time.perf_counter() - started:.0f} s", file=sys.stderr)
    hap = np.asarray(region.haplotypes)
    return region, means, stds, head, hap[region.train_rows], hap[region.val_rows]


def scored(region, x_train, x_val, sets, seed) -> list[dict]:
    """The region page's numbers (:data:`COLUMNS`) of the ceiling and each set, one row each."""
    metrics = evaluate_region(x_train, x_val, sets, region.positions, region.offsets, seed=seed)
    rows = []
    for name in [CEILING, *sets]:
        rows.append(
            {"seed": seed, "set": name, **{c: metrics["summary"][name][c] for c in COLUMNS}}
        )
        print(json.dumps(rows[-1]), file=sys.stderr)
    return rows


def region_parser(doc: str, seeds: int = 2) -> argparse.ArgumentParser:
    """The options of every region-mosaic experiment: RUNS, ``--sections``, ``--seeds``, ``--out``
    (the first line of ``doc`` is the description)."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("runs")
    parser.add_argument("--sections", required=True)
    parser.add_argument("--seeds", type=int, default=seeds)
    parser.add_argument("--out", help="JSON of every number")
    return parser


def default_mosaic(region, means, stds, switch_on=None) -> MosaicPosterior:
    """The mosaic ``sample`` fits by default: ``default_neighbours`` of the training haplotypes per
    switch, within the superpopulation, chosen on ``switch_on`` (None: the last
    ``DEFAULT_SWITCH_SITES`` sites before each boundary)."""
    if switch_on is None:
        switch_on = boundary_alleles(region, DEFAULT_SWITCH_SITES)
    m = default_neighbours(len(means[0]))
    return MosaicPosterior(m, seed=region.seed).fit(
        means, stds, groups=training_groups(region), switch_on=switch_on
    )


def drawn(region, model, n: int, seed: int, head) -> np.ndarray:
    """``n`` haplotypes of ``model`` decoded with the region head, draws from ``(seed, 0)``."""
    rng = np.random.default_rng([seed, 0])
    return decode_region(region, model.sample(n, rng), rng, DEFAULT_DECODER, head)


def report(results: list[dict], out: str | None) -> None:
    """Print the rows as a Markdown table; write them as JSON to ``out`` when given."""
    print("| seed | set | " + " | ".join(COLUMNS) + " |")
    print("|---" * (len(COLUMNS) + 2) + "|")
    for row in results:
        cells = [f"{row[c]:.3f}" if isinstance(row[c], float) else str(row[c]) for c in COLUMNS]
        print(f"| {row['seed']} | {row['set']} | " + " | ".join(cells) + " |")
    if out:
        with open(out, "w") as fh:
            json.dump(results, fh, indent=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs")
    parser.add_argument("--sections", required=True)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--level", choices=["population", "superpopulation"], default="population")
    parser.add_argument("--out", help="JSON of every number")
    args = parser.parse_args(argv)
    region, means, stds, head, x_train, x_val = prepared(args.runs, args.sections)
    labels = training_groups(region, args.level)
    if labels is None:
        raise SystemExit("the runs carry no population labels")
    n = len(x_val) + len(x_val) % 2
    m_all = default_neighbours(len(labels))
    results = []
    for seed in range(1, args.seeds + 1):
        rng = np.random.default_rng([seed, 0])
        plain = MosaicPosterior(m_all, seed=region.seed).fit(means, stds)
        sets = {"mosaic": decode_region(region, plain.sample(n, rng), rng, DEFAULT_DECODER, head)}
        for name, m in (("stratified (M scaled)", None), (f"stratified (M = {m_all})", m_all)):
            rng = np.random.default_rng([seed, 1])
            codes = stratified_codes(means, stds, labels, n, rng, m, region.seed)
            sets[name] = decode_region(region, codes, rng, DEFAULT_DECODER, head)
        results += scored(region, x_train, x_val, sets, seed)
    report(results, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
