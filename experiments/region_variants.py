"""Compare joint latent models of a trained region, fitted differently (experiments/notebook/regions.md).

    python -m experiments.region_variants RUNS_DIR CONTIG:START-END KIND:CODES:MAX_COMPONENTS,... OUT.json

Each variant (e.g. ``chain:means:24``) is fitted on the region's training codes, sampled at the
held-out set's size with the sections' seed, and every variant is scored together, beside the
real-vs-real ceiling, by :func:`vae_genomics.evaluation.region.evaluate_region` (the numbers of the
region page).
"""

from __future__ import annotations

import json
import sys
import time

from vae_genomics.evaluation.region import evaluate_region
from vae_genomics.generate.region import fit_region_model, sample_region
from vae_genomics.run.region import load_region


def main(runs: str, region: str, spec: str, out: str) -> None:
    loaded = load_region(runs, None, region)
    x = loaded.haplotypes
    x_train, x_val = x[loaded.train_rows], x[loaded.val_rows]
    sets, info = {}, {}
    for kind, source, max_components in (v.split(":") for v in spec.split(",")):
        started = time.perf_counter()
        model = fit_region_model(loaded, kind, source, max_components=int(max_components))  # type: ignore[arg-type]
        name = f"{kind}/{source}/max{max_components}"
        sets[name] = sample_region(loaded, model, len(x_val), seed=loaded.seed)
        info[name] = {
            "components": model.components(),
            "fit_seconds": round(time.perf_counter() - started, 1),
        }
        print(name, info[name], flush=True)
    metrics = evaluate_region(
        x_train, x_val, sets, loaded.positions, loaded.offsets, seed=loaded.seed
    )
    for name, row in metrics["summary"].items():
        print(name, {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()})
    with open(out, "w") as f:
        json.dump({"summary": metrics["summary"], "fits": info}, f, indent=1)


if __name__ == "__main__":
    main(*sys.argv[1:5])
