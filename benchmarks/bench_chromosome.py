"""Chromosome scale: a 5,000-haplotype chromosome through the cache and the Snakemake workflow.

``make bench ARGS="--only chromosome"`` (= ``python benchmarks/run_all.py --only chromosome``).

Data, ``--scenario``:

- ``ooa`` (the default): the project's chromosome scenario, ``scripts/simulate_chromosome.py``
  (``make chromosome-data``): 2,502 diploid samples (``--samples``; 5,004 haplotypes) from YRI, CEU
  and CHB under the Gutenkunst et al. (2009) out-of-Africa model, a recombination map with 2 kb
  hotspots about every 500 kb, mutation 1.29e-8 per bp per generation, over ``--length-mb`` (20)
  Mb; sectioned by its hotspot-to-hotspot BED, with its population labels, at MAF >= 0.01;
- ``one-population`` (``benchmarks/make_data.py`` ``make_chromosome``; the data of the 2026-11-24
  "Chromosome scale" numbers in BENCHMARKS.md): 2,500 diploid samples, one population of ``--population-size``
  (20,000; about 1 segregating site per 110 bp), uniform recombination 1e-8, over ``--length-mb``
  (34) Mb; 1,000-SNP windows at MAF >= 0.01.

Either is written as phased BGZF VCF (contig ``22``) with a tabix index into ``--data-dir``, once.

Measured, each command in its own process (wall time and peak RSS from ``wait4``), the three
reading ways interleaved so that a busy moment of the machine hits all alike:

- ``zcat`` of the VCF.gz, ``bcftools view -Ou`` of it (the bcftools on PATH, or the one bundled in
  pysam, then inside a Python process) and ``vae-genomics cache`` (parse + write the cache);
- the hand-written parts against the library way: our BGZF inflater against Python's ``gzip``
  module, our text VCF reader against htslib (cyvcf2) reading the same batches;
- listing every section from the cache (``vae-genomics sections``) and the workflow's dry run;
- loading the middle section from the cache in a fresh process;
- a local Snakemake run over ``--sections`` (10) sections with ``--epochs`` (2) epochs: per job
  wall and peak RSS (Snakemake's ``benchmark`` files), fit seconds (``metrics.json``) and the rest
  (start-up, data load, evaluation, figures, writing).

From the per-job numbers it projects every section of the chromosome at the default settings: the
per-job overhead plus the measured seconds per epoch times ``training.epochs`` (an upper bound:
early stopping usually ends sooner).
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
SECTION_SNPS = 1_000
MIN_MAF = 0.01
LENGTH_MB = {"ooa": 20.0, "one-population": 34.0}


def _measure(cmd: list[str], cwd: Path | None = None) -> dict[str, float]:
    """Wall seconds and peak RSS (MB) of one command, stdout discarded."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_env()
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code
    if code != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited with {code}: {stderr[-2000:]}")
    return {"seconds": wall, "peak_rss_mb": usage.ru_maxrss / 1024}


def _env() -> dict[str, str]:
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}


def child(argv: list[str]) -> None:
    """``inflate-ours|inflate-gzip PATH`` or ``read-text|read-htslib PATH`` or
    ``load CONFIG NAME``; prints JSON."""
    import numpy as np

    what, path = argv[0], Path(argv[1])
    out: dict[str, float] = {}
    t0 = time.perf_counter()
    if what == "inflate-ours":
        from vae_genomics.data.inflate import text_chunks

        out["bytes"] = sum(len(chunk) for chunk, _ in text_chunks(path, "bgzf"))
    elif what == "inflate-gzip":
        import gzip

        with gzip.open(path, "rb") as handle:
            out["bytes"] = sum(len(b) for b in iter(lambda: handle.read(1 << 20), b""))
    elif what.startswith("read-"):
        from vae_genomics.data.vcf import VcfSource

        source = VcfSource(path, engine=what.split("-", 1)[1])
        scratch = np.empty((0, 2 * len(source.header.samples)), np.int8)

        def allocate(n: int) -> np.ndarray:
            nonlocal scratch
            if len(scratch) < n:
                scratch = np.empty((n, scratch.shape[1]), np.int8)
            return scratch[:n]

        out["records"] = sum(len(b.positions) for b in source.batches(None, None, allocate, False))
    elif what == "load":
        from vae_genomics.config import load_config
        from vae_genomics.data import load_section

        data = load_section(load_config(path).data, argv[2])
        out["n_variants"] = data.matrix.n_variants
        out["n_haplotypes"] = len(data.matrix.haplotype_ids)
    out["seconds_in_process"] = time.perf_counter() - t0
    print(json.dumps(out))


def _child(*args: str) -> dict[str, float]:
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--child", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env(),
    )  # fmt: skip
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    stdout = proc.stdout.read().decode() if proc.stdout else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"child {args}: {proc.stderr.read().decode()[-2000:]}")
    return {**json.loads(stdout), "seconds": wall, "peak_rss_mb": usage.ru_maxrss / 1024}


def _bcftools(vcf: Path) -> tuple[str, list[str]]:
    exe = shutil.which("bcftools")
    if exe:
        version = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout
        return version.split("\n")[0], [exe, "view", "-Ou", "-o", "/dev/null", str(vcf)]
    import pysam

    code = f"import pysam.bcftools as b; b.view('-Ou', {str(vcf)!r}, catch_stdout=False)"
    name = f"bcftools bundled in pysam {pysam.__version__}, in a Python process"
    return name, [sys.executable, "-c", code]


def _machine() -> dict[str, object]:
    cpu = platform.machine()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem, 1),
        "python": platform.python_version(),
        "load_average": os.getloadavg(),
    }


def _write_config(work: Path, vcf: Path, cache: Path, data: dict[str, object]) -> Path:
    import yaml

    config = work / "chromosome.yaml"
    raw = {
        "runs_dir": str(work / "runs"),
        "sections_dir": str(work / "sections"),
        "data": {"vcf": str(vcf), "cache": str(cache), **data},
    }
    config.write_text(yaml.safe_dump(raw))
    return config


def _snakemake(work: Path, config: Path, *args: str, **options: object) -> list[str]:
    exe = str(Path(sys.executable).with_name("snakemake"))
    pairs = [f"{k}={v}" for k, v in {"vae_config": config, **options}.items()]
    return [exe, "-s", str(ROOT / "workflow" / "Snakefile"), "--profile",
            str(ROOT / "workflow" / "profiles" / "local"), *args, "--config", *pairs]  # fmt: skip


def _jobs(work: Path, config: Path, sections: list[str], epochs: int) -> list[dict[str, float]]:
    """Per-job wall, peak RSS, fit seconds and epochs of a finished workflow run."""
    rows = []
    for name in sections:
        bench = work / "logs" / "vae-genomics" / "benchmarks" / "train" / f"{name}.tsv"
        with bench.open() as handle:
            row = next(csv.DictReader(handle, delimiter="\t"))
        metrics = json.loads((work / "runs" / name / "default" / "metrics.json").read_text())
        wall, fit = float(row["s"]), float(metrics["train_seconds"])
        rows.append({
            "section": name, "wall": wall, "fit": fit, "overhead": wall - fit,
            "peak_rss_mb": float(row["max_rss"]), "epochs": int(metrics.get("epochs_run", epochs)),
            "n_variants": int(metrics["section"]["n_variants"]),
        })  # fmt: skip
    return rows


def bench(args: argparse.Namespace, work: Path) -> dict[str, object]:
    """Every measurement; the numbers."""
    from make_data import chromosome_data

    from vae_genomics.config import Config

    started = time.perf_counter()
    vcf, meta, data_config = chromosome_data(
        args.scenario, args.length_mb, args.data_dir, args.samples, args.population_size
    )
    data_config |= {"min_maf": MIN_MAF} | (
        {"window_snps": SECTION_SNPS} if args.scenario == "one-population" else {}
    )
    results: dict[str, object] = {"machine": _machine(), "args": vars(args) | {"data_dir": None}}
    results["data"] = {
        "vcf": vcf.name,
        "vcf_bytes": vcf.stat().st_size,
        **meta,
        "make_seconds_this_run": time.perf_counter() - started,
    }
    cli = str(Path(sys.executable).with_name("vae-genomics"))
    cache = work / "chrom.vcz"
    bcftools_name, bcftools_cmd = _bcftools(vcf)
    results["bcftools"] = bcftools_name
    ways: dict[str, list[dict[str, float]]] = {}
    for _ in range(args.repeats):  # interleaved
        shutil.rmtree(cache, ignore_errors=True)
        for key, cmd in (
            ("zcat", ["zcat", str(vcf)]),
            ("bcftools_view_Ou", bcftools_cmd),
            ("cache", [cli, "-q", "cache", str(vcf), "--out", str(cache)]),
        ):
            ways.setdefault(key, []).append(_measure(cmd))
        for key in ("inflate-ours", "inflate-gzip", "read-text", "read-htslib"):
            ways.setdefault(key, []).append(_child(key, str(vcf)))
    results["ways"] = ways
    results["cache_bytes"] = sum(p.stat().st_size for p in cache.rglob("*") if p.is_file())
    if args.reading_only:
        results["machine"]["load_average_end"] = os.getloadavg()
        return results

    config = _write_config(work, vcf, cache, data_config)
    listed = subprocess.run([cli, "-q", "sections", "--config", str(config), "--names"],
                            capture_output=True, text=True, check=True, env=_env())  # fmt: skip
    names = listed.stdout.split()
    results["n_sections"] = len(names)
    results["list_sections"] = _measure([cli, "-q", "sections", "--config", str(config)])
    dry = _measure(_snakemake(work, config, "-n", "--quiet"), cwd=work)
    results["dry_run"] = dry
    middle = names[len(names) // 2]
    _child("load", str(config), middle)  # warm the page cache
    results["section_load"] = {"section": middle,
                               "runs": [_child("load", str(config), middle) for _ in range(3)]}  # fmt: skip

    chosen = names[:: max(1, len(names) // args.sections)][: args.sections]
    # one job per section (sections_per_job=1): the numbers below are per section
    run = _snakemake(work, config, "--cores", str(args.threads), sections=",".join(chosen),
                     extra=f"'--epochs {args.epochs}'", threads=args.threads,
                     sections_per_job=1)  # fmt: skip
    t0 = time.perf_counter()
    done = subprocess.run(run, cwd=work, capture_output=True, text=True, env=_env())
    results["workflow_seconds"] = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"snakemake failed: {(done.stdout + done.stderr)[-3000:]}")
    results["jobs"] = _jobs(work, config, chosen, args.epochs)
    results["default_epochs"] = Config().training.epochs
    results["machine"]["load_average_end"] = os.getloadavg()
    return results


def _median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def table(results: dict) -> str:
    """Markdown tables of the results."""
    ways, data = results["ways"], results["data"]
    zcat = _median(ways["zcat"], "seconds")
    n_sections, haplotypes = results.get("n_sections", "?"), data["haplotypes"]
    kind = (f"sections of {SECTION_SNPS:,} SNPs" if results["args"]["scenario"] == "one-population"
            else "hotspot-to-hotspot (BED) sections")  # fmt: skip
    lines = [
        f"Data ({results['args']['scenario']}): {data['vcf']} — {data['sites']:,} sites over "
        f"{data['length_mb']:g} Mb, {haplotypes:,} haplotypes, {data['vcf_bytes'] / 1e6:.0f} MB; "
        f"{n_sections} {kind} at MAF ≥ {MIN_MAF:g}; cache {results['cache_bytes'] / 1e6:.0f} MB "
        f"on disk.\n",
        "| reading the whole VCF.gz (own process; median) | seconds | peak RSS (MB) | × zcat |",
        "| --- | ---: | ---: | ---: |",
    ]
    labels = {
        "zcat": "`zcat` > /dev/null",
        "bcftools_view_Ou": f"`bcftools view -Ou` > /dev/null ({results['bcftools']})",
        "cache": "`vae-genomics cache` (parse + write the cache)",
        "inflate-gzip": "Python `gzip` module, inflate only",
        "inflate-ours": "our BGZF inflater (`data/inflate.py`), inflate only",
        "read-htslib": "htslib reader (cyvcf2, `data/htsvcf.py`): records → batches",
        "read-text": "our text reader (`data/textvcf.py`): records → batches",
    }
    for key, label in labels.items():
        s = _median(ways[key], "seconds")
        rss = max(r["peak_rss_mb"] for r in ways[key])
        lines.append(f"| {label} | {s:.1f} | {rss:.0f} | {s / zcat:.2f} |")
    if "section_load" not in results:
        return "\n".join(lines)
    load = results["section_load"]
    in_proc = _median(load["runs"], "seconds_in_process")
    lines += [
        "",
        "| step | value |",
        "| --- | ---: |",
        f"| list every section from the cache (`vae-genomics sections`, whole process) | "
        f"{results['list_sections']['seconds']:.1f} s |",
        f"| workflow dry run over the chromosome (`snakemake -n`, cache present) | "
        f"{results['dry_run']['seconds']:.1f} s |",
        f"| load one {load['runs'][0]['n_variants']:,}-SNP section × {haplotypes:,} haplotypes "
        "from the cache "
        f"(`load_section`, in a fresh process; process wall) | {in_proc:.2f} s "
        f"({_median(load['runs'], 'seconds'):.1f} s) |",
        f"| peak RSS of that process | {max(r['peak_rss_mb'] for r in load['runs']):.0f} MB |",
        "",
        "| section job (Snakemake, local) | variants | epochs | wall (s) | fit (s) | "
        "overhead (s) | overhead % | peak RSS (MB) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    jobs = results["jobs"]
    for job in jobs:
        lines.append(
            f"| {job['section']} | {job['n_variants']} | {job['epochs']} | {job['wall']:.1f} | "
            f"{job['fit']:.1f} | {job['overhead']:.1f} | {100 * job['overhead'] / job['wall']:.0f} "
            f"| {job['peak_rss_mb']:.0f} |"
        )
    overhead = statistics.median(j["overhead"] for j in jobs)
    per_epoch = statistics.median(j["fit"] / j["epochs"] for j in jobs)
    rss = max(j["peak_rss_mb"] for j in jobs)
    n, epochs = results["n_sections"], results["default_epochs"]
    per_job = overhead + per_epoch * epochs
    lines += [
        "",
        f"Whole local run: {results['workflow_seconds']:.0f} s for {len(jobs)} jobs. Per job: "
        f"overhead {overhead:.1f} s (median), fit {per_epoch:.2f} s per epoch, peak RSS up to "
        f"{rss:.0f} MB. Projected at the default {epochs} epochs (no early stop: an upper bound), "
        f"{results['args']['threads']} threads per job: {per_job / 60:.1f} min per section, "
        f"{n} sections = {n * per_job / 3600:.1f} job-hours "
        f"({n * per_job / 3600 * results['args']['threads']:.1f} CPU-hours); memory per job "
        f"{rss / 1024:.1f} GB measured.",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line (see the module docstring)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        child(argv[1:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=1, help="runs of each reading way")
    parser.add_argument(
        "--scenario", choices=sorted(LENGTH_MB), default="ooa", help="data (module docstring)"
    )
    parser.add_argument(
        "--length-mb",
        type=float,
        default=None,
        help="chromosome length (ooa 20, one-population 34)",
    )
    parser.add_argument(
        "--samples", type=int, default=2_502, help="ooa: diploid samples, a multiple of 3"
    )
    parser.add_argument(
        "--population-size", type=int, default=20_000, help="one-population: its size"
    )
    parser.add_argument("--sections", type=int, default=10, help="sections trained locally")
    parser.add_argument("--epochs", type=int, default=2, help="epochs of each trained section")
    parser.add_argument("--threads", type=int, default=2, help="threads (and cores) per job")
    parser.add_argument(
        "--reading-only", action="store_true", help="only the ways of reading the whole file"
    )
    parser.add_argument("--data-dir", type=Path, default=HERE / "data")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "chromosome.json")
    args, _ = parser.parse_known_args(argv)  # run_all.py passes the same options to every script
    if args.length_mb is None:
        args.length_mb = LENGTH_MB[args.scenario]
    args.data_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=args.data_dir) as tmp:
        results = bench(args, Path(tmp))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str))
    machine = results["machine"]
    print("## Chromosome scale\n")
    print(
        f"{machine['date']} · {machine['cpu']} · {machine['cores']} cores · "
        f"{machine['memory_gib']} GiB · Python {machine['python']} · load average "
        f"{machine['load_average'][0]:.1f} → {machine['load_average_end'][0]:.1f} · "
        f"{args.repeats} run(s) of each reading way\n"
    )
    print(table(results))
    print(f"\nraw numbers: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
