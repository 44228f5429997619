#!/usr/bin/env python
"""Table generator × cohort: how realistic each generator's haplotypes are, beside the ceiling.

For every finished run given (one per cohort), every generator of ``--generators`` (names as in
:mod:`vae_genomics.generate.generators`) draws as many haplotypes as the run has held out and is
scored against those held-out haplotypes: coverage in PCA and Hamming space, PC1-4 variance ratios,
LD r (:mod:`vae_genomics.evaluation.modeseek`), AATS against held-out, privacy loss and the exact
training-copy fraction (:mod:`vae_genomics.evaluation.realism`). The first row of each cohort is the
real-vs-real ceiling (a training subset of the same size), the column ``IW-NLL`` the model's held-out
importance-weighted NLL from its ``metrics.json`` (the same for every generator of a run), except for
``ld`` decoders: there it is the NLL with the fitted head as the decoder's likelihood. A code
source is fitted once per run and shared by its decoders. The tables of
experiments/notebook/generators.md were made with it.

Usage:
    python -m experiments.generator_table --run example=runs/<section>/<run> [--run ...]
        [--generators prior gmm gmm/calls ...] [--max-components 32] [--out table.md] [--json table.json]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np

from vae_genomics.evaluation.likelihood import importance_weighted_nll
from vae_genomics.evaluation.modeseek import mode_seeking_report
from vae_genomics.evaluation.realism import common_size, realism_ceiling, realism_panel
from vae_genomics.evaluation.verdict import VerdictThresholds
from vae_genomics.generate.generators import DEFAULT_GENERATOR, make_generator
from vae_genomics.models.inference import encode
from vae_genomics.run.directory import METRICS_FILE, read_json
from vae_genomics.run.load import load_run

log = logging.getLogger("generator_table")

GENERATORS = (
    "prior/bernoulli",
    "gmm/bernoulli",
    "gmm/temperature:0.5",
    "gmm/calls",
    "gmm-heldout/bernoulli",
    "gmm-heldout/temperature:0.5",
    "gmm-heldout/calls",
    "aggregate/bernoulli",
    "aggregate/temperature:0.5",
    "aggregate/calls",
    "aggregate:1.5/temperature:0.5",
    "aggregate:1.5/calls",
    "aggregate:2/temperature:0.5",
    "aggregate:2/calls",
    "aggregate:3/calls",
)

COLUMNS = (
    "cohort", "generator", "cov PCA", "cov Ham", "VR PC1", "VR PC2", "VR PC3", "VR PC4", "LD r",
    "AATS", "privacy loss", "copies", "IW-NLL",
)  # fmt: skip


def _row(cohort: str, name: str, ms: dict[str, Any], panel: dict[str, Any], nll: Any) -> dict:
    vr = (ms["variance_ratio"] + [None] * 4)[:4]
    return dict(
        zip(
            COLUMNS,
            [
                cohort, name, ms["prdc_pca"]["coverage"], ms["prdc_hamming"]["coverage"], *vr,
                ms["ld"]["pearson_r"], panel["aats_heldout"], panel["privacy_loss"],
                panel["exact_copy_fraction"], nll,
            ],
            strict=True,
        )
    )  # fmt: skip


def score_run(
    label: str, run_dir: Path, generators: list[str], seed: int, max_components: int | None = None
) -> list[dict]:
    """Rows of one cohort: the ceiling first, then one per generator (mixture sources try at most
    ``max_components`` components; the run's ``evaluation.gmm_max_components`` when None)."""
    run = load_run(run_dir)
    x = run.data.matrix.haplotypes
    x_train, x_val = x[run.train_rows], x[run.val_rows]
    positions = run.data.matrix.positions
    nll = read_json(run.run_dir / METRICS_FILE)["evaluation"]["iw_nll"]["nll"]
    sets, nlls = {}, {}
    mean, log_var = encode(run.model, x_train)
    fitted: dict[str, Any] = {}  # one fit per code source, shared by its decoders
    for spec in generators:
        gen = make_generator(spec, max_components or run.config.evaluation.gmm_max_components)
        shared = fitted.setdefault(gen.source.name, gen.source)
        fit_source = shared is gen.source
        gen.source = shared
        gen.fit_posteriors(run.model, x_train, mean, log_var, seed, fit_source=fit_source)
        nlls[spec] = nll
        if gen.head is not None:
            k = run.config.evaluation.iw_samples
            iw = importance_weighted_nll(run.model, x_val, k, seed=seed, head=gen.head)
            nlls[spec] = iw["nll"]
        sets[spec] = gen.sample(run.model, len(x_val), seed=seed)["samples"]
    ms = mode_seeking_report(x_train, x_val, sets, thresholds=VerdictThresholds(), seed=seed)
    size = common_size(len(x_val), len(x_val), len(x_train), 1000)
    ceiling = realism_ceiling(x_train, x_val, positions, seed=seed, size=size)
    rows = [_row(label, "real (ceiling)", ms["ceiling"], ceiling, None)]
    log.info("%s ceiling: %s", label, rows[0])
    for spec, samples in sets.items():
        panel = realism_panel(samples, x_train, x_val, positions, seed=seed, size=size)
        rows.append(_row(label, spec, ms["sets"][spec], panel, nlls[spec]))
        log.info("%s %s: %s", label, spec, rows[-1])
    return rows


def markdown(rows: list[dict]) -> str:
    """The rows as a Markdown table (3 decimals; IW-NLL 1 decimal)."""

    def fmt(key: str, value: Any) -> str:
        if value is None:
            return "–"
        if isinstance(value, float):
            return f"{value:.1f}" if key == "IW-NLL" else f"{value:.3f}"
        return str(value)

    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + " --- |" * len(COLUMNS)]
    lines += ["| " + " | ".join(fmt(k, r[k]) for k in COLUMNS) + " |" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", action="append", required=True, help="LABEL=RUN_DIR (repeatable)")
    parser.add_argument("--generators", nargs="+", default=list(GENERATORS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-components", type=int, help="largest mixture (gmm sources)")
    parser.add_argument("--out", type=Path, help="write the Markdown table here")
    parser.add_argument("--json", type=Path, help="write the rows as JSON here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    rows: list[dict] = []
    for item in args.run:
        label, _, path = item.partition("=")
        rows += score_run(label, Path(path), args.generators, args.seed, args.max_components)
    table = markdown(rows)
    print(table)
    print(f"\ndefault generator: {DEFAULT_GENERATOR}")
    if args.out:
        args.out.write_text(table + "\n")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
