"""Simulate the benchmark cohorts: phased, bgzipped, tabix-indexed VCFs of 5,000 haplotypes.

The genealogy and mutations come from msprime (neutral, one population of size 10,000, recombination
1e-8 and mutation 1.29e-8 per bp per generation, binary alleles, a discrete genome), so the allele
frequency spectrum and the compressibility of the text are those of a real cohort. The VCF text is
written with numpy, one block of variants at a time, and compressed into BGZF blocks on a thread
pool (zlib releases the GIL); the index is made with pysam (or the htslib ``tabix`` program). The
writer is ``scripts/fast_vcf.py``, shared with ``scripts/simulate_chromosome.py``.

Files, in ``--out-dir`` (default ``benchmarks/data``, git-ignored)::

    sim_<n>.vcf.gz, sim_<n>.vcf.gz.tbi   one contig "1", n variants, 2,500 diploid samples
    chrom_<L>Mb.vcf.gz (+ .tbi, .json)    bench_chromosome.py --scenario one-population
    ooa_<L>Mb_<samples>/                  bench_chromosome.py --scenario ooa (simulate_chromosome.py)

A file is re-made only when missing or when its parameters (stored in ``sim_<n>.json``) changed.
Needs the ``sim`` extra: ``pip install -e '.[sim]'``.

Usage::

    python benchmarks/make_data.py --variants 20000 200000
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

#: ``scripts/`` (not a package) holds the VCF writer shared with the example-data scripts.
SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
if str(SCRIPTS) not in sys.path:
    sys.path.insert(0, str(SCRIPTS))
from fast_vcf import phased_records, tabix_index, write_bgzf  # noqa: E402

log = logging.getLogger("make_data")

DEFAULT_DIR = Path(__file__).resolve().parent / "data"
N_SAMPLES = 2_500
#: Expected segregating sites per bp for 5,000 haplotypes: 4 N mu * sum_{i<n} 1/i.
_SITES_PER_BP = 4 * 10_000 * 1.29e-8 * 9.1


def simulate(n_variants: int, seed: int):
    """A tree sequence with at least ``n_variants`` sites for 2,500 diploid samples."""
    import msprime

    length = int(n_variants / _SITES_PER_BP * 1.15) + 10_000
    while True:
        ts = msprime.sim_ancestry(
            samples=N_SAMPLES,
            population_size=10_000,
            sequence_length=length,
            recombination_rate=1e-8,
            random_seed=seed,
        )
        ts = msprime.sim_mutations(
            ts, rate=1.29e-8, model=msprime.BinaryMutationModel(), random_seed=seed + 1
        )
        if ts.num_sites >= n_variants:
            return ts
        length = int(length * 1.3)


def simulate_chromosome(length_bp: int, population_size: int, seed: int):
    """A chromosome-length tree sequence for 2,500 diploid samples (same model as
    :func:`simulate`, with the population size as a parameter)."""
    import msprime

    ts = msprime.sim_ancestry(
        samples=N_SAMPLES,
        population_size=population_size,
        sequence_length=length_bp,
        recombination_rate=1e-8,
        random_seed=seed,
    )
    return msprime.sim_mutations(
        ts, rate=1.29e-8, model=msprime.BinaryMutationModel(), random_seed=seed + 1
    )


def vcf_chunks(
    ts, n_variants: int, seed: int, block: int = 2_000, contig: str = "1"
) -> Iterator[bytes]:
    """VCF text of the first ``n_variants`` sites, header first, ``block`` records at a time.

    REF and ALT are two different nucleotides drawn per site (seeded); the genotypes are the tree
    sequence's 0/1 alleles, samples ``S00000``... in tree-sequence sample order.
    """
    rng = np.random.default_rng(seed)
    names = "\t".join(f"S{i:05d}" for i in range(N_SAMPLES))
    yield (
        "##fileformat=VCFv4.2\n"
        f"##contig=<ID={contig},length={int(ts.sequence_length)}>\n"
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
        f"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t{names}\n"
    ).encode()
    bases = np.array(list("ACGT"))

    def sites() -> Iterator[tuple[bytes, np.ndarray]]:
        for variant in ts.variants(copy=False):
            if variant.site.id >= n_variants:
                break
            ref, alt = rng.choice(bases, size=2, replace=False)
            pos = int(variant.site.position) + 1
            yield f"{contig}\t{pos}\t.\t{ref}\t{alt}\t.\tPASS\t.\tGT\t".encode(), variant.genotypes

    yield from phased_records(sites(), 2 * N_SAMPLES, block)


def make(n_variants: int, out_dir: Path, seed: int = 1) -> Path:
    """Write ``sim_<n_variants>.vcf.gz`` and its index unless an up-to-date copy exists."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"sim_{n_variants}.vcf.gz"
    stamp = out_dir / f"sim_{n_variants}.json"
    params = {"n_variants": n_variants, "n_samples": N_SAMPLES, "seed": seed, "version": 2}
    index = path.with_name(path.name + ".tbi")
    ready = path.is_file() and index.is_file() and stamp.is_file()
    if ready and json.loads(stamp.read_text()) == params:
        log.info("%s is up to date", path)
        return path
    started = time.perf_counter()
    ts = simulate(n_variants, seed)
    log.info("simulated %d sites in %.1f s", ts.num_sites, time.perf_counter() - started)
    write_bgzf(vcf_chunks(ts, n_variants, seed), path)
    tabix_index(path)
    stamp.write_text(json.dumps(params))
    log.info(
        "wrote %s (%.0f MB) in %.1f s",
        path, path.stat().st_size / 1e6, time.perf_counter() - started,
    )  # fmt: skip
    return path


def make_chromosome(
    length_mb: float, out_dir: Path, population_size: int = 20_000, seed: int = 1
) -> Path:
    """Write ``chrom_<length_mb>Mb.vcf.gz`` (contig ``22``) and its index unless up to date."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"chrom_{length_mb:g}Mb"
    path, stamp = out_dir / f"{stem}.vcf.gz", out_dir / f"{stem}.json"
    params = {"length_mb": length_mb, "population_size": population_size, "seed": seed,
              "n_samples": N_SAMPLES, "version": 1}  # fmt: skip
    index = path.with_name(path.name + ".tbi")
    if path.is_file() and index.is_file() and stamp.is_file():
        saved = json.loads(stamp.read_text())
        if {k: saved.get(k) for k in params} == params:
            log.info("%s is up to date", path)
            return path
    started = time.perf_counter()
    ts = simulate_chromosome(int(length_mb * 1e6), population_size, seed)
    log.info("simulated %d sites over %g Mb in %.1f s", ts.num_sites, length_mb,
             time.perf_counter() - started)  # fmt: skip
    write_bgzf(vcf_chunks(ts, ts.num_sites, seed, contig="22"), path)
    tabix_index(path)
    stamp.write_text(json.dumps({**params, "sites": ts.num_sites,
                                 "seconds": round(time.perf_counter() - started, 1)}))  # fmt: skip
    log.info("wrote %s (%.0f MB) in %.1f s", path, path.stat().st_size / 1e6,
             time.perf_counter() - started)  # fmt: skip
    return path


def chromosome_data(
    scenario: str,
    length_mb: float,
    out_dir: Path,
    samples: int = 2_502,
    population_size: int = 20_000,
) -> tuple[Path, dict[str, object], dict[str, object]]:
    """Make (or find) a chromosome of ``benchmarks/bench_chromosome.py``'s ``--scenario``.

    Args:
        scenario: ``ooa`` (``scripts/simulate_chromosome.py``, into ``<out_dir>/ooa_<L>Mb_<samples>``)
            or ``one-population`` (:func:`make_chromosome`).
        length_mb: Chromosome length in Mb.
        out_dir: Data directory.
        samples: ``ooa``: diploid samples, a multiple of 3.
        population_size: ``one-population``: the population's size.

    Returns:
        The VCF, what is known of it (``sites``, ``length_mb``, ``haplotypes``, ...) and the
        ``data:`` config keys its sections need besides the filters (populations, BED).
    """
    if scenario == "one-population":
        vcf = make_chromosome(length_mb, out_dir, population_size)
        meta = json.loads(vcf.with_name(vcf.name.replace(".vcf.gz", ".json")).read_text())
        return vcf, {**meta, "haplotypes": 2 * N_SAMPLES}, {"populations": None}
    import simulate_chromosome as ooa

    out = out_dir / f"ooa_{length_mb:g}Mb_{samples}"
    params = ooa.parameters(
        ooa.parse_args(["--length-mb", str(length_mb), "--samples", str(samples)])
    )
    files = ooa.paths(out)
    if not ooa.up_to_date(files, params):
        ooa.generate(out, params)
    meta = json.loads(files["params"].read_text())
    data = {"populations": str(files["populations"]), "sections": "bed", "bed": str(files["bed"])}
    return files["vcf"], {**meta, "length_mb": meta["length_bp"] / 1e6}, data


def main(argv: list[str] | None = None) -> int:
    """Command line: ``--variants N [N ...] --out-dir DIR --seed S``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variants", type=int, nargs="+", default=[20_000, 200_000])
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    for n in args.variants:
        make(n, args.out_dir, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
