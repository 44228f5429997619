#!/usr/bin/env python
"""Simulate the bundled example cohort (``data/example/``) with msprime.

The example is a synthetic, phased, biallelic-SNP cohort of three human-like
populations (YRI, CEU, CHB) simulated under the three-population
out-of-Africa model of Gutenkunst et al. (2009), with the maximum-likelihood
parameters of that paper (``scripts/ooa_demography.py`` cites it and lists them).

Other settings (not from the paper): one contig named ``22`` of 3 Mb by default,
mutation rate 1.29e-8 and recombination rate 1e-8 per bp per generation,
JC69 nucleotide mutations on a discrete genome. Only sites carrying exactly one
mutation are kept, so every site is a biallelic SNP whose REF is the
(randomly drawn) ancestral nucleotide and whose ALT is the derived one.
Positions are 1-based and run from 1 to ``--length`` (VCF POS = tskit site
position + 1); they are *not* real GRCh38 chr22 coordinates and the REF
alleles do not match any reference genome.

Outputs written to ``--out-dir`` (default ``data/example``):

* ``example.vcf.gz``: phased (``0|1``), BGZF-compressed VCF with sample IDs
  ``YRI_0001`` ... ``CEU_0001`` ... ``CHB_0001`` ...;
* ``example.vcf.gz.tbi``: its tabix index;
* ``populations.tsv``: tab-separated ``sample``/``population`` table.

Requirements: ``msprime`` (>= 1.0; tested with 1.4), ``tskit`` and ``numpy``;
for compression and indexing either the ``pysam`` Python package (preferred)
or the htslib ``bgzip`` and ``tabix`` executables on ``PATH``. ``--check``
additionally needs ``cyvcf2``, ``scikit-allel`` and ``scikit-learn``.

The output is reproducible: with the same ``--seed``, options and
msprime/tskit versions the decompressed VCF is byte-identical (its MD5 is
logged). The compressed file and index are also byte-identical between runs
with the same compressor (BGZF compression is deterministic), but pysam and a
system ``bgzip`` built against a different zlib/libdeflate can produce
different (equally valid) compressed bytes.

Example:
    python scripts/simulate_example.py --seed 42 --check
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import logging
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import msprime
import numpy as np
import tskit
from check_example import CONTIG_ID, NUCLEOTIDES, POPULATIONS_NAME, VCF_NAME, CheckError, check
from ooa_demography import POPULATIONS, build_demography

LOGGER = logging.getLogger("simulate_example")

DEFAULT_LENGTH = 3_000_000
DEFAULT_SAMPLES_PER_POP = 100
DEFAULT_SEED = 42
MUTATION_RATE = 1.29e-8
RECOMBINATION_RATE = 1e-8
VCF_COLUMNS: tuple[str, ...] = (
    "#CHROM",
    "POS",
    "ID",
    "REF",
    "ALT",
    "QUAL",
    "FILTER",
    "INFO",
    "FORMAT",
)


def derive_seeds(seed: int, n: int) -> list[int]:
    """Derive independent msprime seeds from one master seed.

    Args:
        seed: Master random seed.
        n: Number of seeds to derive.

    Returns:
        ``n`` integers in ``[1, 2**31 - 1)``, valid as msprime random seeds.
    """
    rng = np.random.default_rng(seed)
    return [int(s) for s in rng.integers(1, 2**31 - 1, size=n)]


def simulate(
    samples_per_pop: int,
    length: int,
    seed: int,
    recombination: float | msprime.RateMap = RECOMBINATION_RATE,
    mutation_model: msprime.MutationModel | None = None,
) -> tskit.TreeSequence:
    """Simulate ancestry and mutations, keeping single-mutation sites only.

    Args:
        samples_per_pop: Number of diploid individuals sampled per population.
        length: Sequence length in bp.
        seed: Master random seed.
        recombination: Recombination rate per bp per generation, or a map of it over
            ``[0, length)`` (``scripts/simulate_chromosome.py`` passes one with hotspots).
        mutation_model: msprime mutation model; ``None`` is JC69 (nucleotide alleles).

    Returns:
        A tree sequence in which every site carries exactly one mutation
        (hence is a polymorphic biallelic SNP: nucleotide alleles under JC69).
    """
    ancestry_seed, mutation_seed = derive_seeds(seed, 2)
    demography = build_demography()
    mean_rate = (
        recombination.mean_rate if isinstance(recombination, msprime.RateMap) else recombination
    )
    LOGGER.info(
        "Simulating ancestry: %d diploids x %s, %d bp, r=%g%s (seed %d)",
        samples_per_pop,
        "/".join(POPULATIONS),
        length,
        mean_rate,
        " on average" if isinstance(recombination, msprime.RateMap) else "",
        ancestry_seed,
    )
    ts = msprime.sim_ancestry(
        samples={pop: samples_per_pop for pop in POPULATIONS},
        demography=demography,
        sequence_length=length,
        recombination_rate=recombination,
        ploidy=2,
        discrete_genome=True,
        random_seed=ancestry_seed,
    )
    LOGGER.info("Ancestry done: %d trees", ts.num_trees)
    ts = msprime.sim_mutations(
        ts,
        rate=MUTATION_RATE,
        model=msprime.JC69() if mutation_model is None else mutation_model,
        discrete_genome=True,
        random_seed=mutation_seed,
    )
    n_sites = ts.num_sites
    # Sites hit by more than one mutation may be multiallelic or show back
    # mutations; drop them so that every remaining site is a clean biallelic
    # SNP (REF = ancestral nucleotide, ALT = derived nucleotide).
    mutations_per_site = np.bincount(ts.mutations_site, minlength=n_sites)
    multi_hit = np.flatnonzero(mutations_per_site != 1)
    ts = ts.delete_sites(multi_hit)
    LOGGER.info(
        "Mutations done: %d sites, %d with recurrent mutations removed, %d kept",
        n_sites,
        len(multi_hit),
        ts.num_sites,
    )
    return ts


def sample_names(ts: tskit.TreeSequence) -> list[str]:
    """Name the sampled individuals ``<POP>_<index>`` (e.g. ``YRI_0001``).

    Args:
        ts: Simulated tree sequence.

    Returns:
        One name per individual, in individual-table order.
    """
    counters: dict[str, int] = {}
    names = []
    for ind in ts.individuals():
        pop_name = ts.population(ts.node(ind.nodes[0]).population).metadata["name"]
        counters[pop_name] = counters.get(pop_name, 0) + 1
        names.append(f"{pop_name}_{counters[pop_name]:04d}")
    return names


def write_plain_vcf(ts: tskit.TreeSequence, names: Sequence[str], path: Path, seed: int) -> None:
    """Write the phased VCF (uncompressed) with 1-based positions.

    The VCF is written directly rather than with ``tskit.TreeSequence.write_vcf``
    so that the contig length equals the simulated length, IDs are ``.`` and
    the header records how the data were made.

    Args:
        ts: Tree sequence whose sites all carry exactly one mutation.
        names: Sample (individual) names, in individual-table order.
        path: Output path of the plain-text VCF.
        seed: Master random seed (recorded in the header).

    Raises:
        RuntimeError: If positions are not unique or a site is not biallelic.
    """
    # Discrete genome: tskit positions are 0-based integers, VCF POS is 1-based.
    positions = ts.sites_position.astype(np.int64) + 1
    if np.any(np.diff(positions) <= 0):
        raise RuntimeError("site positions are not unique and increasing")
    length = int(ts.sequence_length)
    # Individuals' nodes, in individual order: haplotype columns of the VCF.
    node_order = np.concatenate([ind.nodes for ind in ts.individuals()])
    sample_index = {node: i for i, node in enumerate(ts.samples())}
    columns = np.array([sample_index[node] for node in node_order])
    # Genotype strings indexed by 2 * first allele + second allele.
    gt_strings = np.array(["0|0", "0|1", "1|0", "1|1"])

    header = [
        "##fileformat=VCFv4.2",
        f"##source=scripts/simulate_example.py (msprime {msprime.__version__}, "
        f"tskit {tskit.__version__})",
        '##simulation=<Model="Gutenkunst et al. 2009 out-of-Africa (YRI/CEU/CHB)",'
        f"Seed={seed},MutationRate={MUTATION_RATE},"
        f"RecombinationRate={RECOMBINATION_RATE},MutationModel=JC69>",
        '##FILTER=<ID=PASS,Description="All filters passed">',
        f"##contig=<ID={CONTIG_ID},length={length}>",
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Phased genotype">',
        "\t".join([*VCF_COLUMNS, *names]),
    ]
    with path.open("w", newline="\n") as handle:
        handle.write("\n".join(header) + "\n")
        for variant, pos in zip(ts.variants(), positions, strict=True):
            alleles = variant.alleles
            if len(alleles) != 2 or not set(alleles) <= NUCLEOTIDES:
                raise RuntimeError(f"site at {pos} is not a biallelic SNP: {alleles}")
            haps = variant.genotypes[columns]
            gts = gt_strings[2 * haps[0::2] + haps[1::2]]
            handle.write(
                f"{CONTIG_ID}\t{pos}\t.\t{alleles[0]}\t{alleles[1]}\t.\tPASS\t.\tGT\t"
                + "\t".join(gts)
                + "\n"
            )


def compress_and_index(plain: Path, out: Path) -> None:
    """BGZF-compress a VCF and build its tabix index.

    Uses pysam if installed, otherwise the htslib ``bgzip``/``tabix`` tools.

    Args:
        plain: Uncompressed VCF.
        out: Output ``.vcf.gz`` path; the index is written to ``<out>.tbi``.

    Raises:
        RuntimeError: If neither pysam nor bgzip/tabix are available.
    """
    index = out.with_name(out.name + ".tbi")
    for stale in (out, index):
        stale.unlink(missing_ok=True)
    try:
        import pysam
    except ImportError:
        pysam = None
    if pysam is not None:
        LOGGER.info("Compressing and indexing with pysam %s", pysam.__version__)
        pysam.tabix_compress(str(plain), str(out), force=True)
        pysam.tabix_index(str(out), preset="vcf", force=True)
    elif shutil.which("bgzip") and shutil.which("tabix"):
        LOGGER.info("Compressing and indexing with bgzip/tabix")
        with plain.open("rb") as src, out.open("wb") as dst:
            subprocess.run(["bgzip", "-c"], stdin=src, stdout=dst, check=True)
        subprocess.run(["tabix", "-p", "vcf", str(out)], check=True)
    else:
        raise RuntimeError("need pysam (pip install pysam) or bgzip and tabix (htslib) on PATH")


def write_populations(
    names: Sequence[str], path: Path, superpopulations: Mapping[str, str] | None = None
) -> None:
    """Write the ``sample``/``population`` label table.

    Args:
        names: Sample names of the form ``<POP>_<index>``.
        path: Output TSV path.
        superpopulations: Population → superpopulation; when given, a third column
            ``superpopulation`` is written (the layout of a 1000 Genomes label table).
    """
    with path.open("w") as handle:
        handle.write(
            "sample\tpopulation" + ("\tsuperpopulation" if superpopulations else "") + "\n"
        )
        for name in names:
            pop = name.split("_")[0]
            extra = f"\t{superpopulations[pop]}" if superpopulations else ""
            handle.write(f"{name}\t{pop}{extra}\n")


def md5_of_vcf_content(path: Path) -> str:
    """MD5 of the decompressed VCF text (for reproducibility checks).

    Args:
        path: BGZF-compressed VCF.

    Returns:
        Hex digest of the uncompressed content.
    """
    digest = hashlib.md5(usedforsecurity=False)
    with gzip.open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def generate(out_dir: Path, samples_per_pop: int, length: int, seed: int) -> Path:
    """Simulate the cohort and write VCF, index and population labels.

    Args:
        out_dir: Output directory (created if missing).
        samples_per_pop: Diploid individuals per population.
        length: Sequence length in bp.
        seed: Master random seed.

    Returns:
        Path of the written ``example.vcf.gz``.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    ts = simulate(samples_per_pop, length, seed)
    names = sample_names(ts)
    vcf_path = out_dir / VCF_NAME
    with tempfile.TemporaryDirectory() as tmp:
        plain = Path(tmp) / "example.vcf"
        write_plain_vcf(ts, names, plain, seed)
        compress_and_index(plain, vcf_path)
    write_populations(names, out_dir / POPULATIONS_NAME)
    LOGGER.info(
        "Wrote %s (%d samples, %d variants, %.2f MB; content md5 %s)",
        vcf_path,
        len(names),
        ts.num_sites,
        vcf_path.stat().st_size / 1e6,
        md5_of_vcf_content(vcf_path),
    )
    return vcf_path


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse command-line arguments.

    Args:
        argv: Argument list (defaults to ``sys.argv[1:]``).

    Returns:
        Parsed arguments.
    """
    parser = argparse.ArgumentParser(
        description=(
            "Simulate the example YRI/CEU/CHB cohort (Gutenkunst et al. 2009 "
            "out-of-Africa model) with msprime and write a phased, bgzipped, "
            "tabix-indexed VCF plus a population label table."
        )
    )
    parser.add_argument(
        "--out-dir",
        type=Path,
        default=Path("data/example"),
        help="output directory (default: %(default)s)",
    )
    parser.add_argument(
        "--samples-per-pop",
        type=int,
        default=DEFAULT_SAMPLES_PER_POP,
        help="diploid individuals per population (default: %(default)s)",
    )
    parser.add_argument(
        "--length",
        type=int,
        default=DEFAULT_LENGTH,
        help="contig length in bp (default: %(default)s)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=DEFAULT_SEED,
        help="master random seed (default: %(default)s)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="after writing, re-read and verify the files and run a PCA "
        "(needs cyvcf2 and scikit-learn)",
    )
    parser.add_argument(
        "--check-only",
        action="store_true",
        help="only verify existing files in --out-dir, do not simulate",
    )
    args = parser.parse_args(argv)
    if args.samples_per_pop < 1:
        parser.error("--samples-per-pop must be >= 1")
    if args.length < 1:
        parser.error("--length must be >= 1")
    if args.seed < 0:
        parser.error("--seed must be >= 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point.

    Args:
        argv: Argument list (defaults to ``sys.argv[1:]``).

    Returns:
        Process exit status.
    """
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    args = parse_args(argv)
    if not args.check_only:
        generate(args.out_dir, args.samples_per_pop, args.length, args.seed)
    if args.check or args.check_only:
        try:
            check(args.out_dir)
        except CheckError as err:
            LOGGER.error("Check failed: %s", err)
            return 1
        LOGGER.info("All checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
