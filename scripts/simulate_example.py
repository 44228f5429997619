#!/usr/bin/env python
"""Simulate the bundled example cohort (``data/example/``) with msprime.

The example is a synthetic, phased, biallelic-SNP cohort of three human-like
populations (YRI, CEU, CHB) simulated under the three-population
out-of-Africa model of Gutenkunst et al. (2009):

    Gutenkunst RN, Hernandez RD, Williamson SH, Bustamante CD (2009).
    Inferring the joint demographic history of multiple populations from
    multidimensional SNP frequency data. PLoS Genetics 5(10): e1000695.
    https://doi.org/10.1371/journal.pgen.1000695

Parameters are the maximum-likelihood estimates reported in that paper (the
same values as the ``OutOfAfrica_3G09`` model of stdpopsim and the
out-of-Africa example of the msprime documentation), converted to generations
with a generation time of 25 years:

* ancestral size N_A = 7,300;
* African expansion to N_AF = 12,300 at T_AF = 220 kya (8,800 generations);
* out-of-Africa bottleneck N_B = 2,100 starting at T_B = 140 kya
  (5,600 generations);
* CEU/CHB split at T_EU_AS = 21.2 kya (848 generations) with founding sizes
  N_EU0 = 1,000 and N_AS0 = 510, followed by exponential growth at
  r_EU = 0.4 % and r_AS = 0.55 % per generation up to the present;
* symmetric migration rates (per generation): m_AF_B = 25e-5 between YRI and
  the bottleneck population; m_AF_EU = 3e-5, m_AF_AS = 1.9e-5 and
  m_EU_AS = 9.6e-5 between YRI, CEU and CHB after the split.

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
import math
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import msprime
import numpy as np
import tskit

LOGGER = logging.getLogger("simulate_example")

POPULATIONS: tuple[str, ...] = ("YRI", "CEU", "CHB")
CONTIG_ID = "22"
DEFAULT_LENGTH = 3_000_000
DEFAULT_SAMPLES_PER_POP = 100
DEFAULT_SEED = 42
MUTATION_RATE = 1.29e-8
RECOMBINATION_RATE = 1e-8
VCF_NAME = "example.vcf.gz"
POPULATIONS_NAME = "populations.tsv"
NUCLEOTIDES: frozenset[str] = frozenset("ACGT")
MIN_SILHOUETTE = 0.5  # below this PC1-2 silhouette, --check warns
MIN_CENTROID_ACCURACY = 0.9  # below this PC1-10 nearest-centroid accuracy, --check fails
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

# Gutenkunst et al. (2009) maximum-likelihood parameters.
GENERATION_TIME = 25  # years per generation
N_A = 7_300  # ancestral effective population size
N_AF = 12_300  # African size after the expansion
N_B = 2_100  # out-of-Africa bottleneck size
N_EU0 = 1_000  # CEU founding size at the EU/AS split
N_AS0 = 510  # CHB founding size at the EU/AS split
R_EU = 0.004  # CEU exponential growth rate per generation
R_AS = 0.0055  # CHB exponential growth rate per generation
T_AF = 220e3 / GENERATION_TIME  # African expansion: 8,800 generations ago
T_B = 140e3 / GENERATION_TIME  # out-of-Africa split: 5,600 generations ago
T_EU_AS = 21.2e3 / GENERATION_TIME  # CEU/CHB split: 848 generations ago
M_AF_B = 25e-5  # YRI <-> bottleneck population
M_AF_EU = 3e-5  # YRI <-> CEU
M_AF_AS = 1.9e-5  # YRI <-> CHB
M_EU_AS = 9.6e-5  # CEU <-> CHB


def build_demography() -> msprime.Demography:
    """Build the Gutenkunst et al. (2009) three-population out-of-Africa model.

    The present-day populations are YRI, CEU and CHB; ``OOA`` (the
    out-of-Africa bottleneck population), ``AMH`` (anatomically modern humans
    in Africa after the expansion) and ``ANC`` (the ancestral population) are
    ancestral populations that only exist further back in time.

    Returns:
        The msprime demography, with populations ordered YRI, CEU, CHB, OOA,
        AMH, ANC.
    """
    # Present-day sizes of the growing populations: N(t) = N(0) exp(-r t)
    # backwards in time, so N(0) = N(T_EU_AS) exp(r T_EU_AS).
    n_eu = N_EU0 * math.exp(R_EU * T_EU_AS)
    n_as = N_AS0 * math.exp(R_AS * T_EU_AS)

    demography = msprime.Demography()
    demography.add_population(
        name="YRI", description="Yoruba in Ibadan, Nigeria", initial_size=N_AF
    )
    demography.add_population(
        name="CEU",
        description="Utah residents with Northern and Western European ancestry",
        initial_size=n_eu,
        growth_rate=R_EU,
    )
    demography.add_population(
        name="CHB",
        description="Han Chinese in Beijing, China",
        initial_size=n_as,
        growth_rate=R_AS,
    )
    demography.add_population(
        name="OOA",
        description="Out-of-Africa bottleneck population",
        initial_size=N_B,
    )
    demography.add_population(
        name="AMH",
        description="Anatomically modern humans (African, post-expansion)",
        initial_size=N_AF,
    )
    demography.add_population(
        name="ANC", description="Ancestral equilibrium population", initial_size=N_A
    )

    # Present-day migration between the three sampled populations.
    demography.set_symmetric_migration_rate(["YRI", "CEU"], M_AF_EU)
    demography.set_symmetric_migration_rate(["YRI", "CHB"], M_AF_AS)
    demography.set_symmetric_migration_rate(["CEU", "CHB"], M_EU_AS)

    # CEU and CHB merge into OOA at T_EU_AS (this also zeroes all migration
    # to and from CEU/CHB); from then on YRI exchanges migrants with OOA.
    demography.add_population_split(time=T_EU_AS, derived=["CEU", "CHB"], ancestral="OOA")
    demography.add_symmetric_migration_rate_change(
        time=T_EU_AS, populations=["YRI", "OOA"], rate=M_AF_B
    )
    # YRI and OOA merge into the African population at T_B.
    demography.add_population_split(time=T_B, derived=["YRI", "OOA"], ancestral="AMH")
    # Before the African expansion the population has the ancestral size.
    demography.add_population_split(time=T_AF, derived=["AMH"], ancestral="ANC")
    demography.sort_events()
    return demography


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


def simulate(samples_per_pop: int, length: int, seed: int) -> tskit.TreeSequence:
    """Simulate ancestry and JC69 mutations, keeping single-mutation sites only.

    Args:
        samples_per_pop: Number of diploid individuals sampled per population.
        length: Sequence length in bp.
        seed: Master random seed.

    Returns:
        A tree sequence in which every site carries exactly one mutation
        (hence is a polymorphic biallelic SNP with nucleotide alleles).
    """
    ancestry_seed, mutation_seed = derive_seeds(seed, 2)
    demography = build_demography()
    LOGGER.info(
        "Simulating ancestry: %d diploids x %s, %d bp, r=%g (seed %d)",
        samples_per_pop,
        "/".join(POPULATIONS),
        length,
        RECOMBINATION_RATE,
        ancestry_seed,
    )
    ts = msprime.sim_ancestry(
        samples={pop: samples_per_pop for pop in POPULATIONS},
        demography=demography,
        sequence_length=length,
        recombination_rate=RECOMBINATION_RATE,
        ploidy=2,
        discrete_genome=True,
        random_seed=ancestry_seed,
    )
    LOGGER.info("Ancestry done: %d trees", ts.num_trees)
    ts = msprime.sim_mutations(
        ts,
        rate=MUTATION_RATE,
        model=msprime.JC69(),
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


def write_populations(names: Sequence[str], path: Path) -> None:
    """Write the ``sample``/``population`` label table.

    Args:
        names: Sample names of the form ``<POP>_<index>``.
        path: Output TSV path.
    """
    with path.open("w") as handle:
        handle.write("sample\tpopulation\n")
        for name in names:
            handle.write(f"{name}\t{name.split('_')[0]}\n")


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


def haplotype_pca(haplotypes: np.ndarray, populations: np.ndarray, label: str) -> dict[str, float]:
    """PCA of a haplotype matrix and how well it separates the populations.

    Each SNP is centred and scaled by ``sqrt(p (1 - p))`` (Patterson et al.
    2006) before a 10-component PCA; per-population mean PC1/PC2 are logged.

    Args:
        haplotypes: 0/1 matrix, haplotypes as rows and polymorphic SNPs as columns.
        populations: Population label of each haplotype (row).
        label: Description of the SNP set, used in log messages.

    Returns:
        ``silhouette_pc12`` and ``silhouette_pc10``: silhouette scores of the
        population labels on PC1-2 and PC1-10; ``centroid_accuracy_pc10``:
        fraction of haplotypes whose nearest population centroid in PC1-10 is
        their own population.
    """
    from sklearn.decomposition import PCA
    from sklearn.metrics import silhouette_score
    from sklearn.neighbors import NearestCentroid

    x = haplotypes.astype(np.float64)
    p = x.mean(axis=0)
    x = (x - p) / np.sqrt(p * (1 - p))
    pca = PCA(n_components=10, random_state=0)
    pcs = pca.fit_transform(x)
    for pop in POPULATIONS:
        mask = populations == pop
        LOGGER.info(
            "PCA [%s] %s: mean PC1 %+.2f, PC2 %+.2f (sd %.2f, %.2f; %d haplotypes)",
            label,
            pop,
            pcs[mask, 0].mean(),
            pcs[mask, 1].mean(),
            pcs[mask, 0].std(),
            pcs[mask, 1].std(),
            int(mask.sum()),
        )
    sil2 = float(silhouette_score(pcs[:, :2], populations))
    sil10 = float(silhouette_score(pcs, populations))
    accuracy = float(NearestCentroid().fit(pcs, populations).score(pcs, populations))
    LOGGER.info(
        "PCA [%s] %d SNPs: explained variance PC1 %.2f%%, PC2 %.2f%%; "
        "silhouette by population %.3f (PC1-2), %.3f (PC1-10); "
        "nearest-centroid accuracy (PC1-10) %.3f",
        label,
        haplotypes.shape[1],
        100 * pca.explained_variance_ratio_[0],
        100 * pca.explained_variance_ratio_[1],
        sil2,
        sil10,
        accuracy,
    )
    return {
        "silhouette_pc12": sil2,
        "silhouette_pc10": sil10,
        "centroid_accuracy_pc10": accuracy,
    }


class CheckError(RuntimeError):
    """Raised by :func:`check` when the written example data fail a check."""


def _require(condition: bool, message: str) -> None:
    """Raise :class:`CheckError` with ``message`` unless ``condition`` holds.

    Args:
        condition: Condition that must be true.
        message: Error message if it is not.

    Raises:
        CheckError: If ``condition`` is false.
    """
    if not condition:
        raise CheckError(message)


def check(out_dir: Path, maf_threshold: float = 0.01) -> dict[str, float]:
    """Re-read the written files and sanity-check them.

    Reads the VCF with cyvcf2 (sample count, variant count, phasing, biallelic
    nucleotide SNPs, unique sorted positions, header lines, tabix region
    query), cross-checks ``populations.tsv``, and runs a PCA of the haplotype
    matrix (haplotypes as rows, SNPs with MAF >= ``maf_threshold``), once on
    all such SNPs and once after LD pruning (scikit-allel ``locate_unlinked``,
    r^2 < 0.1 in windows of 100 SNPs, step 20). Logs per-population mean
    PC1/PC2 and silhouette scores. Fails if the populations are not separable
    in PC1-10 of the pruned PCA (nearest-centroid accuracy below
    ``MIN_CENTROID_ACCURACY``); only warns if they do not separate on PC1-2
    (silhouette below ``MIN_SILHOUETTE``), which happens for some seeds because
    in a 3 Mb region a few long haplotype blocks can dominate PC2.

    Args:
        out_dir: Directory holding ``example.vcf.gz`` and ``populations.tsv``.
        maf_threshold: Minor-allele-frequency cutoff for the PCA.

    Returns:
        Summary statistics (counts and PCA silhouette scores).

    Raises:
        CheckError: If a check fails.
    """
    import allel
    from cyvcf2 import VCF

    vcf_path = out_dir / VCF_NAME
    index_path = out_dir / (VCF_NAME + ".tbi")
    _require(index_path.exists(), f"missing index {index_path}")

    labels: dict[str, str] = {}
    with (out_dir / POPULATIONS_NAME).open() as handle:
        header = handle.readline().rstrip("\n").split("\t")
        _require(header == ["sample", "population"], f"bad header {header}")
        for line in handle:
            sample, population = line.rstrip("\n").split("\t")
            labels[sample] = population

    vcf = VCF(str(vcf_path))
    samples = list(vcf.samples)
    raw_header = vcf.raw_header
    contig_lines = [
        line for line in raw_header.splitlines() if line.startswith(f"##contig=<ID={CONTIG_ID},")
    ]
    _require(len(contig_lines) == 1, "expected exactly one contig line")
    contig_length = int(contig_lines[0].split("length=")[1].rstrip(">").split(",")[0])
    _require("##FORMAT=<ID=GT," in raw_header, "no GT FORMAT line")
    _require(samples == list(labels), "VCF samples != populations.tsv samples")
    _require(all(labels[s] == s.split("_")[0] for s in samples), "labels do not match sample IDs")

    positions: list[int] = []
    haplotype_rows: list[np.ndarray] = []
    all_phased = True
    for variant in vcf:
        _require(variant.CHROM == CONTIG_ID, f"unexpected contig {variant.CHROM}")
        _require(len(variant.ALT) == 1, f"non-biallelic site at {variant.POS}")
        _require(
            variant.REF in NUCLEOTIDES
            and variant.ALT[0] in NUCLEOTIDES
            and variant.ALT[0] != variant.REF,
            f"not a nucleotide SNP at {variant.POS}",
        )
        genotypes = variant.genotype.array()  # (n_samples, 3): a0, a1, phased
        all_phased &= bool(genotypes[:, 2].all())
        haplotype_rows.append(genotypes[:, :2].reshape(-1).astype(np.int8))
        positions.append(variant.POS)
    vcf.close()
    pos = np.array(positions)
    _require(all_phased, "unphased genotypes found")
    _require(bool(np.all(np.diff(pos) > 0)), "positions not strictly increasing")
    _require(pos.min() >= 1 and pos.max() <= contig_length, "positions outside the contig")

    # Haplotype matrix: rows = 2 * n_samples haplotypes, columns = variants.
    haplotypes = np.vstack(haplotype_rows).T
    _require(set(np.unique(haplotypes)) <= {0, 1}, "missing or multiallelic calls")
    alt_freq = haplotypes.mean(axis=0)
    maf = np.minimum(alt_freq, 1 - alt_freq)
    _require(bool(np.all(maf > 0)), "monomorphic site found")
    common = maf >= maf_threshold
    LOGGER.info(
        "VCF: %d samples, %d variants (%d with MAF >= %g), positions %d-%d, all phased",
        len(samples),
        len(pos),
        int(common.sum()),
        maf_threshold,
        pos.min(),
        pos.max(),
    )

    # Region query through the tabix index.
    mid = int(pos[len(pos) // 2])
    start, end = mid - 50_000, mid + 50_000
    region = f"{CONTIG_ID}:{start}-{end}"
    vcf = VCF(str(vcf_path))
    region_pos = [v.POS for v in vcf(region)]
    vcf.close()
    expected = int(((pos >= start) & (pos <= end)).sum())
    _require(
        len(region_pos) == expected > 0,
        f"region query returned {len(region_pos)} variants, expected {expected}",
    )
    LOGGER.info("Index OK: region %s returned %d variants", region, expected)

    # PCA of the haplotypes: all SNPs with MAF >= threshold, then LD-pruned.
    hap_pops = np.repeat([labels[s] for s in samples], 2)
    common_haps = haplotypes[:, common]
    all_stats = haplotype_pca(common_haps, hap_pops, f"MAF>={maf_threshold:g}")
    # Dosages (individuals x SNPs) -> (SNPs x individuals) for scikit-allel.
    dosage = (common_haps[0::2] + common_haps[1::2]).T
    unlinked = allel.locate_unlinked(dosage, size=100, step=20, threshold=0.1)
    pruned_stats = haplotype_pca(common_haps[:, unlinked], hap_pops, "LD-pruned r2<0.1")
    if max(all_stats["silhouette_pc12"], pruned_stats["silhouette_pc12"]) < MIN_SILHOUETTE:
        LOGGER.warning(
            "The populations do not separate well on PC1-2 (silhouette < %.1f): in a "
            "3 Mb region later PCs can be driven by a few long haplotype blocks, "
            "especially within YRI, for some seeds",
            MIN_SILHOUETTE,
        )
    _require(
        pruned_stats["centroid_accuracy_pc10"] >= MIN_CENTROID_ACCURACY,
        "populations are not separable in PC1-10 (nearest-centroid accuracy "
        f"{pruned_stats['centroid_accuracy_pc10']:.3f})",
    )
    summary: dict[str, float] = {
        "n_samples": len(samples),
        "n_variants": len(pos),
        "n_variants_maf": int(common.sum()),
        "n_variants_pruned": int(unlinked.sum()),
    }
    summary.update(all_stats)
    summary.update({f"pruned_{key}": value for key, value in pruned_stats.items()})
    return summary


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
