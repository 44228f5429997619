"""Summarise a finished ``make train-all`` run: per job and per section, for BENCHMARKS.md.

Reads Snakemake's per-job benchmark files (``logs/vae-genomics/benchmarks/train/<batch>.tsv``:
wall seconds, peak RSS, CPU seconds) and every section's ``metrics.json`` (fit seconds, epochs,
best epoch, evaluation seconds per part, headline verdict), and prints Markdown: the totals (jobs,
sections, wall and CPU hours, the largest peak RSS), the distribution of fit seconds and epochs
over sections, the jobs' non-fit overhead (wall minus the fit seconds of their sections, as a
share of wall), the evaluation's seconds by part, the verdicts, and the sections without a
finished run.

Usage:
    python benchmarks/workflow_summary.py --runs runs --logs logs/vae-genomics [--run-name default]
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
from collections import Counter
from pathlib import Path


def quantiles(values: list[float]) -> str:
    """``min / median / max`` (and the quartiles when there are enough values)."""
    if not values:
        return "—"
    v = sorted(values)
    if len(v) >= 4:
        q1, q2, q3 = statistics.quantiles(v, n=4)
        return f"{v[0]:.0f} / {q1:.0f} / {q2:.0f} / {q3:.0f} / {v[-1]:.0f}"
    return f"{v[0]:.0f} / {statistics.median(v):.0f} / {v[-1]:.0f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=Path, default=Path("runs"))
    parser.add_argument("--logs", type=Path, default=Path("logs/vae-genomics"))
    parser.add_argument("--run-name", default="default")
    args = parser.parse_args(argv)
    sections = {}
    for path in sorted(args.runs.glob(f"*/{args.run_name}/metrics.json")):
        sections[path.parent.parent.name] = json.loads(path.read_text())
    jobs = []
    for path in sorted((args.logs / "benchmarks" / "train").glob("*.tsv")):
        with path.open() as handle:
            row = next(csv.DictReader(handle, delimiter="\t"))
        done = args.runs / ".batches" / args.run_name / f"{path.stem}.done"
        names = done.read_text().split() if done.is_file() else []
        fit = sum(sections[n]["train_seconds"] for n in names if n in sections)
        jobs.append((path.stem, float(row["s"]), float(row["max_rss"]), float(row["cpu_time"]),
                     len(names), fit))  # fmt: skip
    wall = sum(j[1] for j in jobs)
    fit_all = sum(j[5] for j in jobs)
    print("| jobs | sections trained | wall (sum over jobs) | CPU time | largest peak RSS | "
          "non-fit overhead |\n|---|---|---|---|---|---|")  # fmt: skip
    print(f"| {len(jobs)} | {len(sections)} | {wall / 3600:.2f} h | "
          f"{sum(j[3] for j in jobs) / 3600:.2f} h | "
          f"{max((j[2] for j in jobs), default=0) / 1024:.2f} GB | "
          f"{(wall - fit_all) / wall:.0%} |\n" if wall else "| 0 | 0 | — | — | — | — |\n")  # fmt: skip
    print("| per section | min / Q1 / median / Q3 / max |\n|---|---|")
    for label, key in (("fit seconds", "train_seconds"), ("epochs", "epochs_run"),
                       ("best epoch", "best_epoch")):  # fmt: skip
        print(f"| {label} | {quantiles([float(m[key]) for m in sections.values()])} |")
    parts: Counter = Counter()
    for m in sections.values():
        parts.update((m.get("evaluation") or {}).get("seconds") or {})
    print(
        f"| variants | {quantiles([float(m['section']['n_variants']) for m in sections.values()])} |"
    )
    print("\n| job | sections | wall s | fit s | non-fit share | peak RSS GB | CPU s |")
    print("|---|---|---|---|---|---|---|")
    for name, s, rss, cpu, n, fit in jobs:
        print(f"| {name} | {n} | {s:.0f} | {fit:.0f} | {(s - fit) / s:.0%} | {rss / 1024:.2f} | "
              f"{cpu:.0f} |")  # fmt: skip
    print("\nEvaluation seconds by part, summed over sections: "
          + ", ".join(f"{k} {v:.0f}" for k, v in parts.most_common()))  # fmt: skip
    verdicts = Counter(
        ((m.get("evaluation") or {}).get("headline") or {}).get("verdict")
        for m in sections.values()
    )
    print("Headline verdicts: " + ", ".join(f"{k} {v}" for k, v in verdicts.most_common()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
