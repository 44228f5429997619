#!/usr/bin/env python
"""The mosaic with a chance of keeping the template across a boundary.

A mosaic of *real* training alleles that switches at every boundary (the default's tables, no
decoding) gives cross-boundary r² that correlate with the training haplotypes' own at r = 0.93
(experiments/adaptive_switches.py), where the decoded mosaic keeps 0.90-0.92 × the ceiling: the
switch itself, not the decoder, costs most of the boundary LD. Real haplotypes recombine at a
hotspot only now and then. Here each synthetic haplotype keeps its template across a boundary
with probability ``s`` and otherwise switches as the default does (one of the M nearest on the
last 60 sites, its group's); the rest is the default. Scored by the region page's numbers
beside the default (s = 0).

Usage:
    python -m experiments.sticky_switches RUNS --sections A,B,... [--seeds 2] [--stay 0.25,0.5]
"""

from __future__ import annotations

import numpy as np

from experiments.stratified_mosaic import default_mosaic, prepared, region_parser, report, scored
from vae_genomics.generate.mosaic import MosaicPosterior
from vae_genomics.generate.region import DEFAULT_DECODER, decode_region


def sticky_codes(model: MosaicPosterior, n: int, stay: float, rng) -> list[np.ndarray]:
    """The mosaic's codes (as ``MosaicPosterior.iter_sample``), each haplotype keeping its
    template across a boundary with probability ``stay``."""
    n_train = len(model.means_[0])
    rows = rng.integers(0, n_train, n)
    widths = model.widths_  # each row's group's candidates (all of them without groups)
    if widths is None:
        widths = np.full(n_train, model.table_[0].shape[1] if model.table_ else 1)
    codes = []
    for k, (mean, std) in enumerate(zip(model.means_, model.stds_, strict=True)):
        if k:
            table = model.table_[k - 1]
            moved = table[rows, rng.integers(0, widths[rows])]
            rows = np.where(rng.random(n) < stay, rows, moved)
        codes.append(mean[rows] + std[rows] * rng.standard_normal((n, mean.shape[1])))
    return codes


def main(argv: list[str] | None = None) -> int:
    parser = region_parser(__doc__)
    parser.add_argument("--stay", default="0.25,0.5")
    args = parser.parse_args(argv)
    region, means, stds, head, x_train, x_val = prepared(args.runs, args.sections)
    model = default_mosaic(region, means, stds)
    n = len(x_val) + len(x_val) % 2
    results = []
    for seed in range(1, args.seeds + 1):
        sets = {}
        for stay in [0.0] + [float(s) for s in args.stay.split(",")]:
            rng = np.random.default_rng([seed, 0])
            codes = sticky_codes(model, n, stay, rng)
            sets[f"stay {stay:g}"] = decode_region(region, codes, rng, DEFAULT_DECODER, head)
        results += scored(region, x_train, x_val, sets, seed)
    report(results, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
