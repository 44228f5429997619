#!/usr/bin/env python
"""The region mosaic's switches chosen by the alleles next to the boundary, against the default.

The default mosaic switches, at each boundary, to one of the M training haplotypes nearest the
template in the latent space of the section before (posterior means over the whole section),
within the template's superpopulation. Linkage across a boundary lives in the sites next to
it: here the M candidates are instead the training haplotypes nearest the template in Hamming
distance over the last ``W`` sites of the section before (real alleles, same group, ties broken
at random), so the new template continues a haplotype that looked like the old one where the
sections meet. Both are decoded with the same region head and scored by the region page's own
numbers (:func:`vae_genomics.evaluation.region.evaluate_region`) beside the ceiling.

Usage:
    python -m experiments.boundary_switches RUNS --sections A,B,... [--seeds 2] [--widths 20,50]
"""

from __future__ import annotations

import argparse

import numpy as np
from sklearn.neighbors import NearestNeighbors

from experiments.stratified_mosaic import prepared, report, scored
from vae_genomics.generate.mosaic import MosaicPosterior, default_neighbours
from vae_genomics.generate.region import (
    DEFAULT_DECODER,
    decode_region,
    training_groups,
)


def boundary_tables(x_train, offsets, groups, m, width, seed) -> list[np.ndarray]:
    """Per boundary, each training haplotype's ``m`` nearest of its group by Hamming distance
    over the last ``width`` sites before the boundary, shape (n, m) each."""
    rng = np.random.default_rng(seed)
    tables = []
    for end in offsets[1:-1]:
        x = x_train[:, max(0, end - width) : end].astype(np.float64)
        x += 1e-3 * rng.random(x.shape)  # ties at random
        table = np.zeros((len(x), m), dtype=np.int64)
        for g in np.unique(groups):
            rows = np.flatnonzero(groups == g)
            near = NearestNeighbors(n_neighbors=min(m, len(rows))).fit(x[rows])
            idx = near.kneighbors(x[rows], return_distance=False)
            table[rows] = rows[idx[:, np.arange(m) % idx.shape[1]]]
        tables.append(table)
    return tables


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs")
    parser.add_argument("--sections", required=True)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--widths", default="20,50")
    parser.add_argument("--out", help="JSON of every number")
    args = parser.parse_args(argv)
    region, means, stds, head, x_train, x_val = prepared(args.runs, args.sections)
    groups = training_groups(region)
    n = len(x_val) + len(x_val) % 2
    m = default_neighbours(len(x_train))
    default = MosaicPosterior(m, seed=region.seed).fit(means, stds, groups=groups)
    models = {"default (latent, within group)": default}
    for width in (int(w) for w in args.widths.split(",")):
        model = MosaicPosterior(m, seed=region.seed).fit(means, stds, groups=groups)
        model.table_ = boundary_tables(x_train, region.offsets, groups, m, width, region.seed)
        model.widths_ = None  # every row has m candidates (cycled in groups smaller than m)
        models[f"last {width} sites"] = model
    results = []
    for seed in range(1, args.seeds + 1):
        sets = {}
        for name, model in models.items():
            rng = np.random.default_rng([seed, 0])
            sets[name] = decode_region(region, model.sample(n, rng), rng, DEFAULT_DECODER, head)
        results += scored(region, x_train, x_val, sets, seed)
    report(results, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
