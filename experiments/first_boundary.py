#!/usr/bin/env python
"""The chromosome scenario's first boundaries with no model: real samples and real-allele mosaics.

The region page scores cross-boundary pairs up to 50 kb apart. The mosaic chooses each switch on
the alleles of the last W sites before a boundary. This reads the first ``--sections`` sections
of the scenario (``make chromosome-data``; sites at MAF >= 1%, as its config keeps), splits the
haplotypes at random 80/20 (``--splits`` times), and at each boundary reports:

- how many bp the last W sites span, and how many sites lie within 50 kb of the boundary;
- the boundary LD r (:func:`vae_genomics.evaluation.boundary_ld.boundary_ld`, against the
  held-out 20%) of the ceiling (a held-out-size sample of training haplotypes), of a second
  disjoint sample, and of a mosaic of *real* training alleles through the default mosaic's own
  switch tables (the template's group's ``n_group / 80`` nearest on the last W sites), for each
  ``--widths``.

No decoder and no LD head take part, so what the mosaic loses here is the switch's own.

Usage:
    python -m experiments.first_boundary [--dir data/chromosome] [--sections 5] [--splits 3] [--widths 60,240]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from experiments.adaptive_switches import real_mosaic as adaptive_real_mosaic
from vae_genomics.evaluation.boundary_ld import boundary_ld
from vae_genomics.generate.mosaic import MosaicPosterior


def load(directory: Path, n_sections: int) -> tuple[np.ndarray, np.ndarray, list[int], np.ndarray]:
    """Haplotypes (n, sites) at MAF >= 1% over the first sections, positions, section offsets
    (K + 1) and each haplotype's superpopulation."""
    import allel

    bed = pd.read_csv(directory / "chromosome.sections.bed", sep="\t", header=None)[:n_sections]
    contig, end = str(bed[0].iloc[0]), int(bed[2].iloc[-1])
    calls = allel.read_vcf(
        str(directory / "chromosome.vcf.gz"),
        fields=["variants/POS", "calldata/GT", "samples"],
        region=f"{contig}:1-{end}",
    )
    gt = calls["calldata/GT"]
    x = gt.reshape(gt.shape[0], -1).T.astype(np.int8)
    pos = calls["variants/POS"]
    ac = x.sum(0)
    keep = np.minimum(ac, len(x) - ac) / len(x) >= 0.01
    x, pos = x[:, keep], pos[keep]
    offsets = [int(np.searchsorted(pos, start + 1)) for start in bed[1]] + [len(pos)]
    table = pd.read_csv(directory / "chromosome.populations.tsv", sep="\t")
    label = dict(zip(table.iloc[:, 0], table.iloc[:, -1], strict=True))
    groups = np.repeat([label[s] for s in calls["samples"]], 2)
    return x, pos, offsets, groups


def real_mosaic(x, groups, offsets, width, rng) -> np.ndarray:
    """A mosaic of ``x``'s real alleles through the default mosaic's own switch tables
    (:class:`~vae_genomics.generate.mosaic.MosaicPosterior` fitted on the last ``width`` sites'
    alleles, switches within ``groups``), drawn by :func:`experiments.adaptive_switches.real_mosaic`.
    The tables need no codes, so each section's are zeros."""
    k = len(offsets) - 1
    zeros = [np.zeros((len(x), 1))] * k
    on = [x[:, max(offsets[i - 1], offsets[i] - width) : offsets[i]] for i in range(1, k)]
    model = MosaicPosterior().fit(zeros, zeros, groups=groups, switch_on=on)
    return adaptive_real_mosaic(x, np.asarray(offsets), model, rng)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", type=Path, default=Path("data/chromosome"))
    parser.add_argument("--sections", type=int, default=5)
    parser.add_argument("--splits", type=int, default=3)
    parser.add_argument("--widths", default="60,240")
    args = parser.parse_args(argv)
    widths = [int(w) for w in args.widths.split(",")]
    x, pos, offsets, groups = load(args.dir, args.sections)
    print("| boundary | last 60 sites span (kb) | sites within 50 kb before |")
    print("|---|---|---|")
    for k in range(1, len(offsets) - 1):
        b = offsets[k]
        span = (pos[b - 1] - pos[max(offsets[k - 1], b - 60)]) / 1e3
        print(f"| {k} | {span:.1f} | {int((pos[offsets[k - 1] : b] >= pos[b] - 50_000).sum())} |")
    names = ["ceiling", "second sample", *(f"real-allele mosaic, last {w} sites" for w in widths)]
    print("\n| split | set | boundary LD r at each boundary |\n|---|---|---|")
    rng = np.random.default_rng(0)
    for split in range(1, args.splits + 1):
        perm = rng.permutation(len(x))
        cut = int(0.8 * len(x))
        train, val = x[perm[:cut]], x[perm[cut:]]
        n = len(val)
        sets = {names[0]: train[:n], names[1]: train[n : 2 * n]}
        for w, name in zip(widths, names[2:], strict=True):
            sets[name] = real_mosaic(train, groups[perm[:cut]], offsets, w, rng)[:n]
        ld = boundary_ld(val, sets, pos, offsets)
        for name in names:
            r = ld["sets"][name]["boundary_ld_r_by_boundary"]
            print(f"| {split} | {name} | {', '.join(f'{v:.2f}' for v in r)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
