"""Data-layer benchmarks, measured side by side in one run (numbers go in BENCHMARKS.md).

1. Parse a simulated 5,000-haplotype × 20,000-variant VCF.gz into a HaplotypeMatrix (``read_vcf``,
   the path training takes without a cache) against ``allel.read_vcf`` reading the same file's GT.
2. ``vae-genomics cache`` on it (parse + write) against the same ``allel.read_vcf``.
   Both in-process (imports done, median of ``--repeats`` interleaved runs) and as whole processes
   (a fresh interpreter each, so imports count).
3. Load one 2,000-variant section from the cache of a 200,000-variant contig, against parsing that
   contig's VCF with ``read_vcf``; and the peak RSS of section-loading processes for caches of
   20,000 and 200,000 variants (plus a process that only imports the same modules).

Usage: ``python benchmarks/bench_data.py [--repeats 3] [--bio2zarr PATH/vcf2zarr]`` (``make bench``
runs it; ``--bio2zarr`` also times bio2zarr's converter, installed elsewhere). The VCFs are
made by ``benchmarks/make_data.py`` into ``benchmarks/data/`` (git-ignored) on first use.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
SECTION_SNPS = 2_000


def _peak_rss_mb() -> float:
    """Peak resident memory of this process (VmHWM: unlike ru_maxrss it is not inherited from a
    large parent across fork and exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1 << 20) if sys.platform == "darwin" else rss / 1024  # bytes on macOS, KiB else


def _config(vcf: Path, cache: Path):
    from vae_genomics.config import DataConfig

    return DataConfig(vcf=vcf, cache=cache, populations=None, min_maf=0.0, window_snps=SECTION_SNPS)


def _middle_section(vcf: Path, cache: Path) -> str:
    from vae_genomics.data import list_sections

    _, sections = list_sections(_config(vcf, cache))
    return sections[len(sections) // 2].name


def child(argv: list[str]) -> None:
    """Measured in a fresh process: ``load VCF CACHE NAME`` or ``imports``; prints JSON."""
    started = time.perf_counter()
    import zarr  # noqa: F401 - the loader's imports, so "imports" is the baseline of "load"

    from vae_genomics.data import load_section

    out: dict[str, float] = {}
    if argv[0] in ("load", "trace"):
        vcf, cache, name = Path(argv[1]), Path(argv[2]), argv[3]
        if argv[0] == "trace":  # Python-allocated peak (numpy arrays included), free of RSS noise
            import tracemalloc

            tracemalloc.start()
        t0 = time.perf_counter()
        data = load_section(_config(vcf, cache), name)
        out["load_seconds"] = time.perf_counter() - t0
        out["n_variants"] = data.matrix.n_variants
        if argv[0] == "trace":
            out["traced_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
    out["process_seconds"] = time.perf_counter() - started
    out["peak_rss_mb"] = _peak_rss_mb()
    print(json.dumps(out))


def _run(cmd: list[str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return time.perf_counter() - started, done.stdout


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def _machine() -> dict[str, object]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        mem = float("nan")
    import allel
    import cyvcf2
    import numpy
    import zarr

    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem, 1),
        "python": platform.python_version(),
        "versions": {
            "numpy": numpy.__version__,
            "zarr": zarr.__version__,
            "cyvcf2": cyvcf2.__version__,
            "scikit-allel": allel.__version__,
        },
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }


def _alternatives(path: Path, repeats: int) -> dict[str, list[float]]:
    """Other ways to read the 20k file: what the design choices were measured against."""
    import cyvcf2
    import numpy as np

    from vae_genomics.data.vcf import read_vcf

    def iterate() -> None:
        for _ in cyvcf2.VCF(str(path), lazy=True):
            pass

    def genotype_arrays() -> None:  # the first reader: one rec.genotype.array() per record
        columns = [rec.genotype.array()[:, :2].reshape(-1) for rec in cyvcf2.VCF(str(path))]
        np.stack(columns, axis=1).astype(np.int8)

    runs = {
        "cyvcf2 iteration only": iterate,
        "cyvcf2 genotype.array() per record": genotype_arrays,
        "read_vcf through htslib (cyvcf2, batch-decoded raw GT)": lambda: read_vcf(
            path, engine="htslib", progress=False
        ),
    }
    return {name: [_timed(fn) for _ in range(max(1, repeats - 1))] for name, fn in runs.items()}


def bench(repeats: int, data_dir: Path, work: Path, bio2zarr: str | None) -> dict[str, object]:
    """Run every measurement (``bio2zarr``: a ``vcf2zarr`` executable to compare); the numbers."""
    import allel
    import zarr  # noqa: F401 - imported before timing, like allel
    from make_data import make

    from vae_genomics.data import write_cache
    from vae_genomics.data.vcf import read_vcf

    small, large = make(20_000, data_dir), make(200_000, data_dir)
    cache_small, cache_large = work / "small.vcz", work / "large.vcz"
    results: dict[str, object] = {"machine": _machine(), "repeats": repeats}

    def allel_gt() -> None:
        allel.read_vcf(str(small), fields=["calldata/GT"])

    def cache_it() -> None:
        write_cache(small, cache_small, progress=False)

    inproc: dict[str, list[float]] = {"allel": [], "read_vcf": [], "cache": []}
    for _ in range(repeats):  # interleaved, so a busy moment hits all three alike
        inproc["allel"].append(_timed(allel_gt))
        inproc["read_vcf"].append(_timed(lambda: read_vcf(small, progress=False)))
        shutil.rmtree(cache_small, ignore_errors=True)
        inproc["cache"].append(_timed(cache_it))
    results["in_process"] = inproc
    results["alternatives"] = _alternatives(small, repeats)

    python = sys.executable
    cli = str(Path(python).with_name("vae-genomics"))
    commands = {
        "allel": [
            python,
            "-c",
            f"import allel; allel.read_vcf({str(small)!r}, fields=['calldata/GT'])",
        ],
        "read_vcf": [
            python,
            "-c",
            f"from vae_genomics.data import read_vcf; read_vcf({str(small)!r})",
        ],
        "cache": [cli, "-q", "cache", str(small), "--out", str(cache_small), "--overwrite"],
    }
    whole: dict[str, list[float]] = {k: [] for k in commands}
    for _ in range(repeats):
        for key, cmd in commands.items():
            if key == "cache":
                shutil.rmtree(cache_small, ignore_errors=True)
            whole[key].append(_run(cmd)[0])
    results["whole_process"] = whole
    if bio2zarr:
        b2z_out = work / "bio2zarr.vcz"
        runs = []
        for _ in range(repeats):
            shutil.rmtree(b2z_out, ignore_errors=True)
            runs.append(_run([bio2zarr, "convert", "-Q", "-f", str(small), str(b2z_out)])[0])
        results["bio2zarr"] = runs

    parse_large = [
        _timed(lambda: read_vcf(large, progress=False)) for _ in range(max(1, repeats - 1))
    ]
    shutil.rmtree(cache_large, ignore_errors=True)
    results["cache_large_seconds"] = _timed(lambda: write_cache(large, cache_large, progress=False))
    results["parse_large"] = parse_large
    loads = {}
    for label, vcf, cache in (("20k", small, cache_small), ("200k", large, cache_large)):
        name = _middle_section(vcf, cache)
        from vae_genomics.data import load_section

        config = _config(vcf, cache)
        load_section(config, name)  # warm the file cache
        in_process = [_timed(lambda c=config, n=name: load_section(c, n)) for _ in range(5)]
        child_cmd = [python, __file__, "--child", "load", str(vcf), str(cache), name]
        runs = [json.loads(_run(child_cmd)[1]) for _ in range(repeats)]
        child_cmd[3] = "trace"
        traced = json.loads(_run(child_cmd)[1])["traced_peak_mb"]
        loads[label] = {
            "section": name, "in_process": in_process, "processes": runs, "traced_peak_mb": traced
        }  # fmt: skip
    imports = [
        json.loads(_run([python, __file__, "--child", "imports"])[1]) for _ in range(repeats)
    ]
    results["section_load"] = loads
    results["imports_only"] = imports
    results["cache_bytes"] = {
        label: sum(p.stat().st_size for p in c.rglob("*") if p.is_file())
        for label, c in (("20k", cache_small), ("200k", cache_large))
    }
    results["machine"]["load_average_end"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    return results


def table(results: dict) -> str:
    """Markdown table of the numbers with ratios and targets."""
    med = statistics.median
    ip, wp = results["in_process"], results["whole_process"]
    loads = results["section_load"]
    parse_large = med(results["parse_large"])
    load_large = med(loads["200k"]["in_process"])
    load_proc = med(r["load_seconds"] for r in loads["200k"]["processes"])
    rss = {k: [r["peak_rss_mb"] for r in loads[k]["processes"]] for k in ("20k", "200k")}
    traced = {k: loads[k]["traced_peak_mb"] for k in ("20k", "200k")}
    base_rss = max(r["peak_rss_mb"] for r in results["imports_only"])
    rows = [
        ("parse 20k VCF.gz → HaplotypeMatrix, in-process", ip["read_vcf"], ip["allel"], 4),
        ("parse 20k VCF.gz → HaplotypeMatrix, whole process", wp["read_vcf"], wp["allel"], 4),
        ("`vae-genomics cache` 20k (parse + write), in-process", ip["cache"], ip["allel"], 2),
        ("`vae-genomics cache` 20k (parse + write), whole process", wp["cache"], wp["allel"], 2),
    ]
    lines = [
        "| measurement | ours (s) | allel.read_vcf GT (s) | speed-up | target | met |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for label, ours, ref, target in rows:
        ratio = med(ref) / med(ours)
        lines.append(
            f"| {label} | {med(ours):.2f} | {med(ref):.2f} | {ratio:.1f}× | ≥ {target}× | "
            f"{'yes' if ratio >= target else 'NO'} |"
        )
    lines += [
        "",
        "| other ways to read the 20k file (in-process) | seconds | vs allel.read_vcf GT |",
    ]
    lines += ["| --- | ---: | ---: |"]
    for name, times in results["alternatives"].items():
        lines.append(f"| {name} | {med(times):.2f} | {med(ip['allel']) / med(times):.1f}× |")
    if "bio2zarr" in results:
        b2z = results["bio2zarr"]
        lines.append(
            f"| bio2zarr `vcf2zarr convert` (whole process) | {med(b2z):.2f} | "
            f"{med(wp['allel']) / med(b2z):.2f}× (vs allel, whole process) |"
        )
    share = load_large / parse_large
    lines += [
        "",
        "| measurement | value | reference | ratio | target | met |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
        f"| load one {SECTION_SNPS:,}-variant section from the 200k cache, in-process | "
        f"{load_large:.3f} s | read_vcf of the 200k VCF {parse_large:.2f} s | {100 * share:.1f}% "
        f"| < 5% | {'yes' if share < 0.05 else 'NO'} |",
        f"| same, `load_section` inside a fresh process | {load_proc:.3f} s | {parse_large:.2f} s | "
        f"{100 * load_proc / parse_large:.1f}% | < 5% | {'yes' if load_proc / parse_large < 0.05 else 'NO'} |",  # noqa: E501
        f"| peak RSS of a section-load process (VmHWM, {len(rss['20k'])} runs), 20k cache → 200k "
        f"cache | {min(rss['20k']):.0f}–{max(rss['20k']):.0f} → {min(rss['200k']):.0f}–"
        f"{max(rss['200k']):.0f} MB | imports only {base_rss:.0f} MB | "
        f"{med(rss['200k']) / med(rss['20k']):.2f}× | no growth | "
        f"{'yes' if med(rss['200k']) < 1.1 * med(rss['20k']) else 'NO'} |",
        f"| peak Python-allocated memory of the load (tracemalloc), 20k → 200k cache | "
        f"{traced['20k']:.1f} → {traced['200k']:.1f} MB | | {traced['200k'] / traced['20k']:.2f}× "
        f"| no growth | {'yes' if traced['200k'] < 1.05 * traced['20k'] else 'NO'} |",
        f"| `vae-genomics cache` 200k (in-process) | {results['cache_large_seconds']:.2f} s | "
        f"read_vcf 200k {parse_large:.2f} s | | | |",
        f"| cache size on disk, 20k / 200k | {results['cache_bytes']['20k'] / 1e6:.1f} / "
        f"{results['cache_bytes']['200k'] / 1e6:.1f} MB | | | | |",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line (see the module docstring)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        child(argv[1:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement")
    parser.add_argument("--data-dir", type=Path, default=HERE / "data")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "data.json")
    parser.add_argument(
        "--bio2zarr", metavar="VCF2ZARR", help="also time this vcf2zarr executable (bio2zarr)"
    )
    args, _ = parser.parse_known_args(argv)  # run_all.py passes the same options to every script
    with tempfile.TemporaryDirectory(dir=args.data_dir.parent) as tmp:
        results = bench(args.repeats, args.data_dir, Path(tmp), args.bio2zarr)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    machine = results["machine"]
    print("## Data layer\n")
    print(
        f"{machine['date']} · {machine['cpu']} · {machine['cores']} cores · "
        f"{machine['memory_gib']} GiB · Python {machine['python']} · load average "
        f"{machine['load_average'][0]:.1f} → {machine['load_average_end'][0]:.1f} · "
        f"median of {args.repeats} · {machine['versions']}\n"
    )
    print(table(results))
    print(f"\nraw numbers: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
