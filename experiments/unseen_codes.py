#!/usr/bin/env python
"""How private can a code source be? Decode the codes of real haplotypes the model never saw.

The privacy loss (AATS against held-out minus AATS against training; Yale et al. 2020) of the
default generator can come from its codes (drawn at the training haplotypes' posteriors) or from
the decoder (which learned the training haplotypes). To tell them apart, each seed splits the
run's held-out haplotypes at random into halves A and B and scores, against the training
haplotypes and B:

- ``real A``: the haplotypes of A themselves (the real-vs-real value at this size);
- ``A's codes S=…``: one draw z ~ q(z | x) per haplotype of A, its spread scaled S times, decoded
  by the default generator's decoder (the ``ld`` head fitted on the training haplotypes), i.e. a
  code source whose codes are distributed as those of new real haplotypes;
- the default generator, with as many haplotypes as A.

``--region LABEL=RUNS_DIR@CONTIG:START-END`` does the same over a region of trained sections: the
default ``mosaic`` joint model and the region's ``ld`` head (``vae-genomics sample --region``) against
A's codes in every section, decoded by the same head.

If ``A's codes`` score a privacy loss near ``real A``'s, the default generator's excess is in its
codes; if they score as high as the generator, no code source can remove it: it is the decoder's.
experiments/notebook/privacy.md ("Where the privacy loss comes from") and
experiments/notebook/region-privacy.md ("Over a region the privacy loss is the codes'") were made
with it.

Usage:
    python -m experiments.unseen_codes --run example=runs/<section>/<run> [--run ...] [--seeds 4]
    python -m experiments.unseen_codes --region five=runs@chr1:2802297-3009019 [--seeds 4]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from vae_genomics.evaluation.realism import common_size, realism_ceiling, realism_panel
from vae_genomics.generate.context import ContextHead
from vae_genomics.generate.decoders import parse_decoder
from vae_genomics.generate.generators import DEFAULT_GENERATOR, make_generator
from vae_genomics.generate.joint import RegionLatentModel
from vae_genomics.generate.region import (
    DEFAULT_DECODER,
    decode_region,
    fit_region_head,
    fit_region_model,
    sample_region,
)
from vae_genomics.generate.samplers import decode_logits
from vae_genomics.models.inference import encode
from vae_genomics.run.load import LoadedRun, load_run
from vae_genomics.run.region import LoadedRegion, load_region

SPREADS = (1.0, 1.5)
KEYS = ("aats_heldout", "privacy_loss", "exact_copy_fraction")


def score_seed(run: LoadedRun, seed: int) -> dict[str, list[float]]:
    """Rows name → [AATS against B, privacy loss, exact-copy fraction] for one seed of ``run``."""
    x = run.data.matrix.haplotypes
    positions = run.data.matrix.positions
    x_train, x_heldout = x[run.train_rows], x[run.val_rows]
    rng = np.random.default_rng(seed)
    half_a, half_b = _halves(len(x_heldout), rng)
    mean, log_var = encode(run.model, x_train)
    generator = make_generator(DEFAULT_GENERATOR)
    generator.fit_posteriors(run.model, x_train, mean, log_var, seed)
    kind, temperature = parse_decoder(generator.decoder)
    if kind != "ld" or generator.head is None:
        raise SystemExit(f"the default generator's decoder is {generator.decoder}, not an ld head")
    sets = {
        "real A": x_heldout[half_a],
        DEFAULT_GENERATOR: generator.sample(run.model, len(half_a), seed=seed)["samples"],
    }
    mean_a, log_var_a = encode(run.model, x_heldout[half_a])
    for spread in SPREADS:
        z = mean_a + spread * np.exp(0.5 * log_var_a) * rng.standard_normal(mean_a.shape)
        logits = decode_logits(run.model, z)
        sets[f"A's codes S={spread:g}"] = generator.head.sample(logits, rng, temperature)
    return _score_sets(sets, x_train, x_heldout[half_b], positions, seed)


def _halves(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    order = rng.permutation(n)
    return order[: n // 2], order[n // 2 :]


def _score_sets(
    sets: dict[str, np.ndarray],
    x_train: np.ndarray,
    x_b: np.ndarray,
    positions: np.ndarray,
    seed: int,
) -> dict[str, list[float]]:
    size = common_size(min(len(x) for x in sets.values()), len(x_b), len(x_train), 1000)
    ceiling = realism_ceiling(x_train, x_b, positions, seed=seed, size=size)
    rows = {"real training subset (ceiling)": [float(ceiling[k]) for k in KEYS]}
    for name, samples in sets.items():
        panel = realism_panel(samples, x_train, x_b, positions, seed=seed, size=size)
        rows[name] = [float(panel[k]) for k in KEYS]
    return rows


def fit_region(region: LoadedRegion) -> tuple[ContextHead, RegionLatentModel]:
    """The region's ``ld`` head and default mosaic (seeded by the region: the same for every seed)."""
    head = fit_region_head(region, DEFAULT_DECODER, seed=region.seed)
    if head is None:
        raise SystemExit(f"the region decoder is {DEFAULT_DECODER}, not an ld head")
    return head, fit_region_model(region, "mosaic")


def score_region_seed(
    region: LoadedRegion,
    seed: int,
    fitted: tuple[ContextHead, RegionLatentModel] | None = None,
) -> dict[str, list[float]]:
    """:func:`score_seed` over a region: the default mosaic against A's codes in every section
    (``fitted``: :func:`fit_region` of ``region``, fitted here when not given)."""
    x = np.asarray(region.haplotypes)
    x_train, x_heldout = x[region.train_rows], x[region.val_rows]
    rng = np.random.default_rng(seed)
    half_a, half_b = _halves(len(x_heldout), rng)
    head, mosaic = fitted or fit_region(region)
    sets = {"mosaic (default)": sample_region(region, mosaic, len(half_a), seed, head=head)}
    for spread in SPREADS:
        codes = []
        for k, run in enumerate(region.sections):
            rows = region.section_rows(k)[region.val_rows[half_a]]
            mean, log_var = encode(run.model, np.asarray(run.data.matrix.haplotypes)[rows])
            codes.append(mean + spread * np.exp(0.5 * log_var) * rng.standard_normal(mean.shape))
        sets[f"A's codes S={spread:g}"] = decode_region(region, codes, rng, head=head)
    sets = {"real A": x_heldout[half_a], **sets}
    return _score_sets(sets, x_train, x_heldout[half_b], region.positions, seed)


def _table(label: str, score: Callable[[int], dict[str, list[float]]], seeds: int) -> None:
    found: dict[str, list[list[float]]] = {}
    for seed in range(seeds):
        for name, row in score(seed).items():
            found.setdefault(name, []).append(row)
    for name, rows in found.items():
        values = np.asarray(rows)
        sd = values.std(axis=0, ddof=1) if len(values) > 1 else np.zeros(len(KEYS))
        cells = [f"{m:.3f} ± {s:.3f}" for m, s in zip(values.mean(0), sd, strict=True)]
        print(f"| {label} | {name} | " + " | ".join(cells[:2]) + f" | {values[:, 2].mean():.3f} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", action="append", default=[], help="LABEL=RUN_DIR (repeatable)")
    parser.add_argument(
        "--region", action="append", default=[], help="LABEL=RUNS_DIR@CONTIG:START-END (repeatable)"
    )
    parser.add_argument("--seeds", type=int, default=4, help="seeds 0 .. N-1")
    args = parser.parse_args(argv)
    if not args.run and not args.region:
        parser.error("give at least one --run or --region")
    print("| cohort | set | AATS vs B | privacy loss | exact copies |")
    print("| --- | --- | --- | --- | --- |")
    for item in args.run:
        label, _, path = item.partition("=")
        run = load_run(Path(path))
        _table(label, lambda seed, run=run: score_seed(run, seed), args.seeds)
    for item in args.region:
        label, _, spec = item.partition("=")
        runs_dir, _, where = spec.partition("@")
        region = load_region(runs_dir, region=where or None)
        fitted = fit_region(region)
        _table(
            label,
            lambda seed, region=region, fitted=fitted: score_region_seed(region, seed, fitted),
            args.seeds,
        )
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
