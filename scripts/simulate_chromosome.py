#!/usr/bin/env python
"""Simulate the chromosome scenario (``data/chromosome/``): one command, every file a run needs.

A 20 Mb chromosome of 5,004 haplotypes (2,502 diploid individuals, 834 each of YRI, CEU and
CHB) under the three-population out-of-Africa model of Gutenkunst et al. (2009)
(``scripts/ooa_demography.py``), simulated with msprime on a recombination map with hotspots,
so that hotspot-to-hotspot sections can be cut the way they are on a real cohort.

Recombination map (choices of this script, not of a published map):

* background rate 1e-8 per bp per generation (1 cM/Mb, about the human genome-wide average;
  Kong et al. 2002, Nature Genetics 31: 241-247, doi:10.1038/ng917);
* hotspots 2 kb wide (human hotspots are 1-2 kb wide: Jeffreys et al. 2001, Nature Genetics
  29: 217-222, doi:10.1038/ng1001-217; Myers et al. 2005, Science 310: 321-324,
  doi:10.1126/science.1117196), each at a rate drawn uniformly from 50x to 100x the background;
* hotspot centres at random (seeded) positions, one per ``--hotspot-spacing-kb`` (500 kb) on
  average: gaps between centres (and from the contig ends) are a tenth of the spacing plus an
  exponential draw of nine tenths of it, so no two hotspots overlap and no section is tiny.
  Real hotspots are about ten times denser (one per 50 kb, Myers et al. 2005); the sparser map
  here gives sections of a few thousand SNPs, the size the VAEs are trained on.

Other settings: mutation rate 1.29e-8 per bp per generation (as the example's), binary alleles
(msprime's ``BinaryMutationModel``), a discrete genome; sites hit by more than one mutation are
dropped, so ALT is always the derived allele. REF/ALT are two different nucleotides drawn per
site (seeded); they match no reference genome. VCF POS = msprime position + 1, contig ``22``
(a name only: positions run from 1 to the length, not over GRCh38 chr22).

Files written to ``--out-dir`` (default ``data/chromosome``, git-ignored):

* ``chromosome.vcf.gz`` and ``.tbi``: phased BGZF VCF and its tabix index;
* ``chromosome.recombination_map.txt``: the map in HapMap format (tab-separated
  ``Chromosome Position(bp) Rate(cM/Mb) Map(cM)``; each row's rate holds from its position to the
  next row's, positions are msprime's 0-based coordinates, the last row is the contig end);
  ``msprime.RateMap.read_hapmap(path, sequence_length=L)`` reads it back;
* ``chromosome.sections.bed``: hotspot-to-hotspot sections, 0-based half-open, contiguous: each
  starts at a hotspot centre and ends at the next one; the first starts at 0 and the last ends at
  the contig end. Names follow the 1000 Genomes cohort's BED, ``hotspot_<start+1>_<end+1>``
  (the two 1-based boundary positions), ``flank_...`` for the two sections at the contig ends;
* ``chromosome.populations.tsv``: ``sample population superpopulation`` (AFR, EUR, EAS);
* ``chromosome.yaml``: a config for the workflow (``sections: bed``, the populations table);
* ``chromosome.json``: the parameters, versions and counts. A re-run with the same parameters
  finds the files and does nothing.

Needs the ``sim`` extra (msprime, tskit, pysam). Example (``make chromosome-data``)::

    python scripts/simulate_chromosome.py --length-mb 20 --samples 2502
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import msprime
import numpy as np
import tskit
import yaml
from check_example import CONTIG_ID
from fast_vcf import phased_records, tabix_index, write_bgzf
from ooa_demography import POPULATIONS, SUPERPOPULATIONS
from simulate_example import (
    MUTATION_RATE,
    VCF_COLUMNS,
    derive_seeds,
    md5_of_vcf_content,
    sample_names,
    simulate,
    write_populations,
)

LOGGER = logging.getLogger("simulate_chromosome")

DEFAULT_OUT_DIR = Path("data/chromosome")
DEFAULT_LENGTH_MB = 20.0
DEFAULT_SAMPLES = 2_502
DEFAULT_SEED = 42
DEFAULT_SPACING_KB = 500.0
MIN_SPACING_KB = 50.0
BACKGROUND_RATE = 1e-8
HOTSPOT_WIDTH = 2_000
HOTSPOT_FOLD = (50.0, 100.0)
STEM = "chromosome"
#: Bump when the files change for the same parameters.
VERSION = 1


def paths(out_dir: Path) -> dict[str, Path]:
    """The scenario's files in ``out_dir``, by kind."""
    names = {
        "vcf": f"{STEM}.vcf.gz",
        "index": f"{STEM}.vcf.gz.tbi",
        "map": f"{STEM}.recombination_map.txt",
        "bed": f"{STEM}.sections.bed",
        "populations": f"{STEM}.populations.tsv",
        "config": f"{STEM}.yaml",
        "params": f"{STEM}.json",
    }
    return {kind: out_dir / name for kind, name in names.items()}


def hotspot_centres(length: int, spacing: float, rng: np.random.Generator) -> np.ndarray:
    """Random hotspot centres: gaps of ``spacing / 10`` plus an exponential of mean ``0.9 spacing``.

    Args:
        length: Contig length in bp.
        spacing: Mean distance between hotspot centres in bp.
        rng: Random generator.

    Returns:
        Sorted integer centres (0-based bp), each at least ``spacing / 10`` from its neighbours
        and from both contig ends; possibly empty.
    """
    floor = spacing / 10
    centres = []
    position = 0.0
    while True:
        position += floor + rng.exponential(spacing - floor)
        if position > length - floor:
            return np.array(centres, dtype=np.int64)
        centres.append(int(position))


def hotspot_map(
    length: int, centres: np.ndarray, rng: np.random.Generator
) -> tuple[msprime.RateMap, np.ndarray]:
    """The recombination map: the background rate with a 2 kb hotspot around each centre.

    Args:
        length: Contig length in bp.
        centres: Hotspot centres (0-based bp), sorted, further apart than the hotspot width.
        rng: Random generator (draws each hotspot's fold over the background).

    Returns:
        The map (rates per bp per generation over ``[0, length)``) and the hotspot folds.
    """
    folds = rng.uniform(*HOTSPOT_FOLD, size=len(centres))
    edges = np.column_stack([centres - HOTSPOT_WIDTH // 2, centres + HOTSPOT_WIDTH // 2]).ravel()
    position = np.concatenate([[0], edges, [length]])
    rate = np.full(len(position) - 1, BACKGROUND_RATE)
    rate[1::2] = BACKGROUND_RATE * folds
    return msprime.RateMap(position=position, rate=rate), folds


def write_hapmap(rate_map: msprime.RateMap, path: Path) -> None:
    """Write a map in HapMap format: ``Chromosome Position(bp) Rate(cM/Mb) Map(cM)``.

    Args:
        rate_map: Recombination rates per bp per generation.
        path: Output file (tab-separated, one header line).
    """
    positions = np.append(rate_map.left, rate_map.sequence_length)
    rates_cm_mb = np.append(rate_map.rate * 1e8, 0.0)  # per bp -> cM per Mb; none past the end
    cumulative_cm = rate_map.get_cumulative_mass(positions) * 100
    with path.open("w") as handle:
        handle.write("Chromosome\tPosition(bp)\tRate(cM/Mb)\tMap(cM)\n")
        for pos, rate, cm in zip(positions, rates_cm_mb, cumulative_cm, strict=True):
            handle.write(f"{CONTIG_ID}\t{int(pos)}\t{rate:.6g}\t{cm:.9f}\n")


def sections(length: int, centres: np.ndarray) -> list[tuple[int, int, str]]:
    """Hotspot-to-hotspot sections covering ``[0, length)``.

    Args:
        length: Contig length in bp.
        centres: Hotspot centres (0-based bp), sorted.

    Returns:
        ``(start, end, name)`` per section, 0-based half-open; named ``hotspot_<start+1>_<end+1>``
        between two hotspots and ``flank_...`` where a boundary is a contig end.
    """
    bounds = [0, *(int(c) for c in centres), length]
    rows = []
    for start, end in itertools.pairwise(bounds):
        kind = "flank" if start == 0 or end == length else "hotspot"
        rows.append((start, end, f"{kind}_{start + 1}_{end + 1}"))
    return rows


def vcf_text(ts: tskit.TreeSequence, names: Sequence[str], seed: int) -> Iterator[bytes]:
    """The VCF's text: header, then records of two random nucleotides per site (seeded).

    Args:
        ts: Tree sequence whose sites each carry one binary mutation; its sample nodes are in
            individual order (individual ``i``'s haplotypes are samples ``2i`` and ``2i + 1``).
        names: Individual names, in individual order.
        seed: Master random seed (recorded in the header; draws REF/ALT).

    Returns:
        An iterator of byte chunks.
    """
    node_order = np.concatenate([ind.nodes for ind in ts.individuals()])
    if not np.array_equal(node_order, ts.samples()):
        raise RuntimeError("sample nodes are not in individual order")
    header = [
        "##fileformat=VCFv4.2",
        f"##source=scripts/simulate_chromosome.py (msprime {msprime.__version__}, "
        f"tskit {tskit.__version__})",
        '##simulation=<Model="Gutenkunst et al. 2009 out-of-Africa (YRI/CEU/CHB)",'
        f"Seed={seed},MutationRate={MUTATION_RATE},MutationModel=Binary,"
        f'RecombinationMap="{STEM}.recombination_map.txt">',
        '##FILTER=<ID=PASS,Description="All filters passed">',
        f"##contig=<ID={CONTIG_ID},length={int(ts.sequence_length)}>",
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Phased genotype">',
        "\t".join([*VCF_COLUMNS, *names]),
    ]
    yield ("\n".join(header) + "\n").encode()
    bases = np.array(list("ACGT"))
    pairs = np.argsort(np.random.default_rng(seed).random((ts.num_sites, 4)), axis=1)[:, :2]
    positions = ts.sites_position.astype(np.int64) + 1

    def records() -> Iterator[tuple[bytes, np.ndarray]]:
        for variant in ts.variants(copy=False):
            i = variant.site.id
            ref, alt = bases[pairs[i]]
            line = f"{CONTIG_ID}\t{positions[i]}\t.\t{ref}\t{alt}\t.\tPASS\t.\tGT\t"
            yield line.encode(), variant.genotypes

    yield from phased_records(records(), ts.num_samples)


def write_config(files: dict[str, Path], path: Path) -> None:
    """A workflow config for the scenario: BED sections, population labels, MAF >= 0.01, the
    privacy budget off (simulated individuals; the note in the file says why).

    Args:
        files: The scenario's files (:func:`paths`), written into the config as given.
        path: Output YAML.
    """
    raw = {
        "sections_dir": str(path.parent / "sections"),
        "data": {
            "vcf": str(files["vcf"]),
            "populations": str(files["populations"]),
            "sections": "bed",
            "bed": str(files["bed"]),
            "min_maf": 0.01,
        },
        "generation": {"privacy": "off"},
    }
    note = (
        "# The simulated chromosome scenario (scripts/simulate_chromosome.py): hotspot-to-hotspot\n"
        "# sections of an out-of-Africa cohort. make train-all CONFIG=<this file>\n"
        "# generation.privacy: off because these individuals are simulated: the workflow's region\n"
        "# step samples the whole chromosome whatever the budget says, and every section's and the\n"
        "# region's privacy numbers are still measured and shown. A real cohort keeps the default\n"
        "# (standard): sections over the budget are not released (docs/privacy.md).\n"
    )
    path.write_text(note + yaml.safe_dump(raw, sort_keys=False))


def parameters(args: argparse.Namespace) -> dict[str, object]:
    """What the files depend on (a re-run with the same values is skipped)."""
    return {
        "length_bp": round(args.length_mb * 1e6),
        "samples": args.samples,
        "seed": args.seed,
        "hotspot_spacing_bp": round(args.hotspot_spacing_kb * 1e3),
        "background_rate": BACKGROUND_RATE,
        "hotspot_width_bp": HOTSPOT_WIDTH,
        "hotspot_fold": list(HOTSPOT_FOLD),
        "mutation_rate": MUTATION_RATE,
        "version": VERSION,
        "msprime": msprime.__version__,
    }


def up_to_date(files: dict[str, Path], params: dict[str, object]) -> bool:
    """Every file exists and ``chromosome.json`` records the same parameters."""
    if not all(p.is_file() for p in files.values()):
        return False
    saved = json.loads(files["params"].read_text())
    return {k: saved.get(k) for k in params} == params


def generate(out_dir: Path, params: dict[str, object]) -> dict[str, object]:
    """Simulate the scenario and write every file (see the module docstring).

    Args:
        out_dir: Output directory (created if missing).
        params: :func:`parameters`.

    Returns:
        The contents of ``chromosome.json``: parameters, counts, seconds and content MD5.
    """
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    files = paths(out_dir)
    length, seed = int(params["length_bp"]), int(params["seed"])
    rng = np.random.default_rng(derive_seeds(seed, 3)[2])
    centres = hotspot_centres(length, float(params["hotspot_spacing_bp"]), rng)
    rate_map, folds = hotspot_map(length, centres, rng)
    LOGGER.info(
        "Map: %d hotspots (%.0f-%.0fx), %.2f cM in all, %.1f%% of it in hotspots",
        len(centres), *HOTSPOT_FOLD, rate_map.total_mass * 100,
        100 * (1 - BACKGROUND_RATE * (length - len(centres) * HOTSPOT_WIDTH) / rate_map.total_mass),
    )  # fmt: skip
    per_pop = int(params["samples"]) // len(POPULATIONS)
    ts = simulate(per_pop, length, seed, rate_map, msprime.BinaryMutationModel())
    simulated = time.perf_counter() - started
    names = sample_names(ts)
    write_bgzf(vcf_text(ts, names, seed), files["vcf"])
    tabix_index(files["vcf"])
    write_hapmap(rate_map, files["map"])
    rows = sections(length, centres)
    files["bed"].write_text("".join(f"{CONTIG_ID}\t{s}\t{e}\t{n}\n" for s, e, n in rows))
    write_populations(names, files["populations"], SUPERPOPULATIONS)
    write_config(files, files["config"])
    record = {
        **params,
        "contig": CONTIG_ID,
        "haplotypes": ts.num_samples,
        "sites": ts.num_sites,
        "trees": ts.num_trees,
        "hotspots": len(centres),
        "hotspot_folds_mean": float(folds.mean()) if len(folds) else None,
        "map_total_cm": rate_map.total_mass * 100,
        "sections": len(rows),
        "vcf_bytes": files["vcf"].stat().st_size,
        "vcf_content_md5": md5_of_vcf_content(files["vcf"]),
        "tskit": tskit.__version__,
        "simulate_seconds": round(simulated, 1),
        "seconds": round(time.perf_counter() - started, 1),
    }
    files["params"].write_text(json.dumps(record, indent=2) + "\n")
    LOGGER.info(
        "Wrote %s: %d haplotypes, %d sites, %d sections, %.0f MB, in %.0f s",
        out_dir, ts.num_samples, ts.num_sites, len(rows), record["vcf_bytes"] / 1e6,
        record["seconds"],
    )  # fmt: skip
    return record


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse and check the command line (defaults: the project's 20 Mb, 5,004-haplotype scenario)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR, help="(%(default)s)")
    parser.add_argument(
        "--length-mb", type=float, default=DEFAULT_LENGTH_MB, help="contig length (%(default)s)"
    )
    parser.add_argument(
        "--samples",
        type=int,
        default=DEFAULT_SAMPLES,
        help="diploid individuals, split evenly over YRI/CEU/CHB (%(default)s)",
    )
    parser.add_argument(
        "--hotspot-spacing-kb",
        type=float,
        default=DEFAULT_SPACING_KB,
        help="mean distance between hotspot centres (%(default)s)",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="(%(default)s)")
    args = parser.parse_args(argv)
    if args.samples < len(POPULATIONS) or args.samples % len(POPULATIONS):
        parser.error(f"--samples must be a positive multiple of {len(POPULATIONS)}")
    if args.length_mb <= 0:
        parser.error("--length-mb must be > 0")
    if args.hotspot_spacing_kb < MIN_SPACING_KB:  # hotspots at least 5 kb apart, never overlapping
        parser.error(f"--hotspot-spacing-kb must be >= {MIN_SPACING_KB:g}")
    if args.seed < 0:
        parser.error("--seed must be >= 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: write the scenario unless an up-to-date copy exists."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    args = parse_args(argv)
    params = parameters(args)
    if up_to_date(paths(args.out_dir), params):
        LOGGER.info("%s is up to date (same parameters): nothing to do", args.out_dir)
        return 0
    generate(args.out_dir, params)
    return 0


if __name__ == "__main__":
    sys.exit(main())
