"""Where a section job's seconds go: start-up, data load, fit (XLA compile included), evaluation
parts, writing and figures, for one real section trained by the ``train`` command's code path.

``make bench ARGS="--only overhead"`` (= ``python benchmarks/run_all.py --only overhead``).

One fresh process runs what ``vae-genomics train`` runs (``train.fit.prepare`` then
``commands.train_section.train_section``), with a timer around each step (the steps are wrapped here; the
package is unchanged). The evaluation's own per-part seconds come from ``metrics.json``.

Data: the 1000 Genomes cohort in ``--data`` (default ``../shared/data`` beside the repository: a
phased VCF of chr1 2.0–3.0 Mb, 2,504 samples = 5,008 haplotypes, its populations and a BED of
recombination-hotspot-bounded sections); the section is ``--section`` (the BED's first by default).
Settings are the defaults (``configs/default.yaml``) unless ``--epochs`` caps training.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STARTED = time.perf_counter()
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def child(config_path: str, section: str | None, threads: int) -> dict[str, object]:
    """The measured job (runs in its own process); returns the phase seconds."""
    phases: dict[str, float] = {}
    t0 = time.perf_counter()
    from vae_genomics.common.logs import import_tensorflow_quietly

    import_tensorflow_quietly()
    from vae_genomics.train.threads import limit_threads

    limit_threads(threads)
    import vae_genomics.commands.train_section as section_run
    import vae_genomics.train.fit as training

    phases["imports"] = time.perf_counter() - t0 + (t0 - STARTED)

    def timed(name: str, fn):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                phases[name] = phases.get(name, 0.0) + time.perf_counter() - start

        return wrapper

    for name, attr in (
        ("fit", "fit_vae"),
        ("evaluation", "evaluate_section"),
        ("figures + report", "write_section_report"),
        ("latent.tsv", "write_latent"),
        ("run data", "store_run_data"),
        ("metrics", "run_metrics"),
    ):
        setattr(section_run, attr, timed(name, getattr(section_run, attr)))
    import keras

    keras.Model.save = timed("model.keras", keras.Model.save)
    start = time.perf_counter()
    config, data = training.prepare(Path(config_path), section, {})
    phases["config + data load"] = time.perf_counter() - start
    start = time.perf_counter()
    result = section_run.train_section(config, data, section_run.RunTarget("bench"))
    phases["train_section"] = time.perf_counter() - start
    phases["process"] = time.perf_counter() - STARTED
    metrics = result.metrics
    return {
        "phases": phases,
        "train_seconds": metrics["train_seconds"],
        "epochs_run": metrics["epochs_run"],
        "evaluation_parts": metrics.get("evaluation", {}).get("seconds")
        or _find_seconds(result.run_dir),
        "n_variants": data.section.n_variants,
        "n_haplotypes": len(data.matrix.haplotype_ids),
        "section": data.section.name,
    }


def _find_seconds(run_dir: Path) -> dict[str, float] | None:
    metrics = json.loads((run_dir / "metrics.json").read_text())
    stack = [metrics]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if isinstance(node.get("seconds"), dict):
                return node["seconds"]
            stack.extend(node.values())
    return None


def main(argv: list[str] | None = None) -> int:
    """Command line (see the module docstring)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        section = argv[2] if argv[2] != "-" else None
        print(json.dumps(child(argv[1], section, int(argv[3]))))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--section", default=None, help="BED section (default: the first)")
    parser.add_argument("--epochs", type=int, default=None, help="cap training.epochs")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "overhead.json")
    args, _ = parser.parse_known_args(argv)
    vcf = args.data / "1kg_chr1_2.0-3.0Mb.vcf.gz"
    if not vcf.is_file():
        print(f"## Job overhead\n\nskipped: {vcf} not found (give --data DIR)")
        return 0
    import yaml

    with tempfile.TemporaryDirectory() as tmp:
        raw = {
            "runs_dir": f"{tmp}/runs",
            "sections_dir": f"{tmp}/sections",
            "data": {
                "vcf": str(vcf),
                "populations": str(args.data / "1kg_chr1_2.0-3.0Mb.populations.tsv"),
                "sections": "bed",
                "bed": str(args.data / "1kg_chr1_2.0-3.0Mb.sections.bed"),
            },
        }
        if args.epochs:
            raw["training"] = {"epochs": args.epochs}
        config = Path(tmp) / "config.yaml"
        config.write_text(yaml.safe_dump(raw))
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
        cmd = [sys.executable, __file__, "--child", str(config), args.section or "-",
               str(args.threads)]  # fmt: skip
        load = os.getloadavg()
        done = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if done.returncode:
            print(done.stderr[-3000:], file=sys.stderr)
            return 1
        result = json.loads(done.stdout.strip().splitlines()[-1])
    result["machine"] = {"cpu_cores": os.cpu_count(), "python": platform.python_version(),
                         "load_average": [load, os.getloadavg()]}  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    phases = result["phases"]
    wall = phases["process"]
    fit = phases["fit"]
    print("## Job overhead\n")
    print(
        f"section {result['section']}: {result['n_variants']} variants × {result['n_haplotypes']} "
        f"haplotypes, {result['epochs_run']} epochs, {args.threads} threads; load average "
        f"{load[0]:.1f} → {os.getloadavg()[0]:.1f}\n"
    )
    print("| phase | seconds | % of wall |\n| --- | ---: | ---: |")
    order = ["imports", "config + data load", "fit", "run data", "model.keras", "metrics",
             "evaluation", "latent.tsv", "figures + report"]  # fmt: skip
    for name in order:
        if name in phases:
            print(f"| {name} | {phases[name]:.1f} | {100 * phases[name] / wall:.0f} |")
    for part, seconds in (result.get("evaluation_parts") or {}).items():
        print(f"| · evaluation: {part} | {seconds:.1f} | {100 * seconds / wall:.0f} |")
    print(f"| whole process | {wall:.1f} | 100 |")
    print(f"\nnon-fit overhead: {wall - fit:.1f} s = {100 * (wall - fit) / wall:.0f}% of wall")
    return 0


if __name__ == "__main__":
    sys.exit(main())
