"""Checks of the simulated example cohort: re-read the written files and sanity-check them.

Used by ``scripts/simulate_example.py --check`` (and ``--check-only``); the file layout it checks
(contig, file names, nucleotide alleles) is defined here and shared with the simulator.
Needs ``cyvcf2``, ``scikit-allel`` and ``scikit-learn``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from ooa_demography import POPULATIONS

LOGGER = logging.getLogger("simulate_example")

CONTIG_ID = "22"
VCF_NAME = "example.vcf.gz"
POPULATIONS_NAME = "populations.tsv"
NUCLEOTIDES: frozenset[str] = frozenset("ACGT")
MIN_SILHOUETTE = 0.5  # below this PC1-2 silhouette, --check warns
MIN_CENTROID_ACCURACY = 0.9  # below this PC1-10 nearest-centroid accuracy, --check fails


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
