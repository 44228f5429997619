"""One job per section vs several sections in one job: wall, fit and overhead side by side.

``make bench ARGS="--only batch"`` (= ``python benchmarks/run_all.py --only batch``).

The first ``--sections`` BED sections of the 1000 Genomes cohort in ``--data`` (default
``../shared/data`` beside the repository) are trained at default settings (``--epochs`` caps
training), reading a cache built once as the workflow does, three ways in one run:

- ``one job per section``: a ``vae-genomics train --section S`` process per section (what the
  workflow runs with ``sections_per_job=1``);
- ``one job, reports in the job``: one process trains every section and draws each report before
  the next section starts (``batch.train_sections(background=False)``);
- ``one job, reports drawn alongside``: ``vae-genomics train --sections A,B,...``, which draws each
  report in a drawing process while the next section trains (the default of ``--sections``).

Fit seconds are the runs' own (``metrics.json``: ``train_seconds``); overhead = wall − fit. The
runs of the three ways must agree (same seed): every number of their ``metrics.json`` but the
timings and ``origins`` is compared.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
IN_JOB = """
import sys
from vae_genomics.common.logs import import_tensorflow_quietly, setup_logging
setup_logging(0)
import_tensorflow_quietly()
from vae_genomics.train.threads import limit_threads
limit_threads(int(sys.argv[3]))
from vae_genomics.commands.train_sections import train_sections
from vae_genomics.train.fit import prepare
done = train_sections(sys.argv[2].split(","), lambda s: prepare(sys.argv[1], s, {}), "in_job",
                      background=False)
sys.exit(1 if done.failed else 0)
"""


def _run(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if done.returncode:
        sys.stderr.write(done.stderr[-3000:])
        raise SystemExit(f"failed: {' '.join(cmd[:4])} ...")
    return time.perf_counter() - start


#: Keys of ``metrics.json`` that may differ between the ways: timings, and where settings came
#: from (the command line's ``--threads`` for the CLI's ways; nothing for the in-job scripts).
UNCOMPARED = ("seconds", "train_seconds", "origins")


def _numbers(value: object) -> object:
    """``metrics.json`` without its timings (what must agree between the ways)."""
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items() if k not in UNCOMPARED}
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    return value


def _difference(a: object, b: object, path: str = "") -> str | None:
    """The first key path where two ``metrics.json`` trees differ, or None."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            found = _difference(a.get(key), b.get(key), f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (u, v) in enumerate(zip(a, b, strict=True)):
            found = _difference(u, v, f"{path}[{i}]")
            if found:
                return found
        return None
    return None if a == b else f"{path} ({a!r} vs {b!r})"


def _runs(runs: Path, sections: list[str], name: str) -> tuple[float, list[float], str]:
    fits, elbos, numbers = [], [], []
    for section in sections:
        metrics = json.loads((runs / section / name / "metrics.json").read_text())
        fits.append(metrics["train_seconds"])
        elbos.append(round(metrics["heldout"]["neg_elbo"], 3))
        numbers.append(_numbers(metrics))
    return sum(fits), elbos, json.dumps(numbers, sort_keys=True)


def main(argv: list[str] | None = None) -> int:
    """Command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--sections", type=int, default=4, help="how many BED sections")
    parser.add_argument("--epochs", type=int, default=None, help="cap training.epochs")
    parser.add_argument("--threads", type=int, default=2)
    args, _ = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    vcf = args.data / "1kg_chr1_2.0-3.0Mb.vcf.gz"
    if not vcf.is_file():
        print(f"## Sections per job\n\nskipped: {vcf} not found (give --data DIR)")
        return 0
    import yaml

    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
    cli = [sys.executable, "-m", "vae_genomics.cli"]
    load = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(tmp) / "runs"
        raw = {
            "runs_dir": str(runs),
            "sections_dir": f"{tmp}/sections",
            "data": {
                "vcf": str(vcf),
                "populations": str(args.data / "1kg_chr1_2.0-3.0Mb.populations.tsv"),
                "sections": "bed",
                "bed": str(args.data / "1kg_chr1_2.0-3.0Mb.sections.bed"),
                "cache": f"{tmp}/cohort.vcz",
            },
        }
        if args.epochs:
            raw["training"] = {"epochs": args.epochs}
        config = Path(tmp) / "config.yaml"
        config.write_text(yaml.safe_dump(raw))
        _run([*cli, "cache", "--config", str(config)], env)
        names = subprocess.run([*cli, "sections", "--config", str(config), "--names"],
                               capture_output=True, text=True, env=env, check=True)  # fmt: skip
        sections = names.stdout.split()[: args.sections]
        threads = ["--threads", str(args.threads)]

        single = [[*cli, "train", "--config", str(config), "--section", s, "--run-name", "single",
                   *threads] for s in sections]  # fmt: skip
        wall = sum(_run(cmd, env) for cmd in single)
        rows.append(("one job per section", len(sections), wall, *_runs(runs, sections, "single")))
        wall = _run([sys.executable, "-c", IN_JOB, str(config), ",".join(sections),
                     str(args.threads)], env)  # fmt: skip
        rows.append(("one job, reports in the job", 1, wall, *_runs(runs, sections, "in_job")))
        wall = _run([*cli, "train", "--config", str(config), "--sections", ",".join(sections),
                     "--run-name", "batch", *threads], env)  # fmt: skip
        rows.append(("one job, reports drawn alongside", 1, wall, *_runs(runs, sections, "batch")))
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print("## Sections per job\n")
    print(
        f"{len(sections)} BED sections of the 1000 Genomes cohort ({', '.join(sections)}), "
        f"default settings{f' capped at {args.epochs} epochs' if args.epochs else ''}, "
        f"{args.threads} threads; {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%d %H:%M %Z')}, load average {load:.1f} → "
        f"{os.getloadavg()[0]:.1f}; largest child peak RSS {peak:.0f} MB\n"
    )
    print(
        "| way | jobs | wall (s) | fit (s) | overhead (s) | overhead % of wall | held-out −ELBO |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for way, jobs, wall, fit, elbos, _ in rows:
        print(f"| {way} | {jobs} | {wall:.1f} | {fit:.1f} | {wall - fit:.1f} | "
              f"{100 * (wall - fit) / wall:.0f} | {', '.join(map(str, elbos))} |")  # fmt: skip
    same = len({r[5] for r in rows}) == 1
    if not same:
        first = json.loads(rows[0][5])
        for row in rows[1:]:
            other = json.loads(row[5])
            print(f"{row[0]}: differs at {_difference(first, other)}")
    print(
        f"\nmetrics.json identical across the three ways (timings aside): {'yes' if same else 'NO'}"
    )
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
