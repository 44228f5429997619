"""Generation at scale: ``sample --region`` throughput and peak memory against N and sections.

``make bench ARGS="--only generation"`` (= ``python benchmarks/run_all.py --only generation``).

Runs ``vae-genomics sample --runs RUNS --sections ... --n N --no-report`` in its own process for
each N of ``--n`` (default 10,000 and 100,000) over the first section and over every section of
the region, and records wall time and peak RSS (``wait4``), genotypes per second (N × sites /
wall) and the VCF's size. Peak memory follows N × the largest section, not the region: the
region is drawn and written section by section.

Runs: ``--runs DIR --sections A,B,...`` (trained sections of one region, e.g. the 1000 Genomes
region of BENCHMARKS.md); without them, the bundled example's sections are trained for
``--epochs`` (3) epochs into a temporary directory (speed of generation does not depend on how
well a model fits).

Beside: HAPNEST's published scale, about 1 M individuals × 6.8 M variants in under 12 h on 8
threads (Wharrie et al. 2023, Bioinformatics 39: btad535), i.e. about 39 million haplotype
genotypes per second per thread.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "vae_genomics.cli"]
HAPNEST_PER_THREAD = 2e6 * 6.8e6 / (12 * 3600) / 8


def run_measured(cmd: list[str]) -> tuple[float, float]:
    """Run ``cmd``; wall seconds and peak RSS in GiB (``wait4``). Raises on a non-zero exit."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr.read().decode()[-2000:]}")
    return wall, usage.ru_maxrss / 2**20  # KiB → GiB


def train_example(tmp: Path, epochs: int, sections: int) -> tuple[Path, list[str]]:
    """Train the example's first ``sections`` sections for ``epochs`` epochs into ``tmp``."""
    config = yaml.safe_load((ROOT / "configs" / "example.yaml").read_text())
    config["data"]["vcf"] = str(ROOT / "data" / "example" / "example.vcf.gz")
    config["data"]["populations"] = str(ROOT / "data" / "example" / "populations.tsv")
    config["training"] = {"epochs": epochs, "patience": epochs}
    config["report"] = {"figures": False}
    config["runs_dir"], config["sections_dir"] = str(tmp / "runs"), str(tmp / "sections")
    (tmp / "config.yaml").write_text(yaml.safe_dump(config))
    out = subprocess.run([*CLI, "sections", "--config", str(tmp / "config.yaml"), "--names"],
                         capture_output=True, text=True, check=True)  # fmt: skip
    names = out.stdout.split()[:sections]
    subprocess.run([*CLI, "train", "--config", str(tmp / "config.yaml"), "--sections",
                    ",".join(names)], check=True, capture_output=True)  # fmt: skip
    return tmp / "runs", names


def section_sites(runs: Path, name: str) -> int:
    """Sites of a section's latest run (its ``sites.tsv`` rows)."""
    with (runs / name / "latest" / "sites.tsv").open() as handle:
        return sum(1 for _ in handle) - 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=Path, help="runs directory of a trained region")
    parser.add_argument("--sections", help="its sections, comma-separated, in genome order")
    parser.add_argument("--n", default="10000,100000", help="haplotype counts, comma-separated")
    parser.add_argument("--epochs", type=int, default=3, help="epochs of the example's models")
    parser.add_argument("--example-sections", type=int, default=5)
    args, _ = parser.parse_known_args(argv)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if args.runs and args.sections:
            runs, names = args.runs, args.sections.split(",")
        else:
            runs, names = train_example(tmp, args.epochs, args.example_sections)
        sites = [section_sites(runs, name) for name in names]
        rows = []
        for n in (int(v) for v in args.n.split(",")):
            for chosen in (names[:1], names):
                out = tmp / f"gen_{n}_{len(chosen)}.vcf.gz"
                cmd = [*CLI, "sample", "--runs", str(runs), "--sections", ",".join(chosen),
                       "--n", str(n), "--no-report", "--out", str(out), "--max-memory", "64G",
                       "--privacy", "off"]  # speed only: the budget is checked, not timed  # fmt: skip
                wall, peak = run_measured(cmd)
                n_sites = sum(sites[: len(chosen)])
                rows.append((n, len(chosen), n_sites, max(sites[: len(chosen)]), wall, peak,
                             n * n_sites / wall, out.stat().st_size / 1e6))  # fmt: skip
    print("## Generation at scale (`benchmarks/bench_generation.py`)\n")
    print(f"{platform.node()} ({os.cpu_count()} cores), {datetime.date.today()}, "
          f"runs: {args.runs or 'the example, ' + str(args.epochs) + ' epochs'}\n")  # fmt: skip
    print("| N | sections | sites | largest section | wall s | peak RSS GiB | genotypes/s | "
          "VCF MB |\n|---|---|---|---|---|---|---|---|")  # fmt: skip
    for n, k, s, big, wall, peak, rate, size in rows:
        print(f"| {n:,} | {k} | {s:,} | {big:,} | {wall:.1f} | {peak:.2f} | {rate / 1e6:.1f} M | "
              f"{size:.1f} |")  # fmt: skip
    print(f"\nHAPNEST's published rate: about {HAPNEST_PER_THREAD / 1e6:.0f} M genotypes/s per "
          "thread (8 threads).")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
