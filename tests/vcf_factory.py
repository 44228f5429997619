"""Write small VCFs for tests: a structured toy cohort and hand-made bad records."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

HEADER = """##fileformat=VCFv4.2
##contig=<ID={contig},length=100000000>
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t{samples}
"""


def structured_haplotypes(
    n_samples: int = 40, n_variants: int = 120, n_pops: int = 2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Haplotypes (2 * n_samples, n_variants) from populations with different allele frequencies.

    Returns:
        ``(haplotypes int8, population index of each sample)``.
    """
    rng = np.random.default_rng(seed)
    pops = np.arange(n_samples) % n_pops
    freqs = rng.beta(0.6, 0.6, size=(n_pops, n_variants))
    p = np.repeat(freqs[pops], 2, axis=0)
    hap = (rng.random(p.shape) < p).astype(np.int8)
    # every site polymorphic and above 5% MAF in the whole cohort
    hap[0, :] = 1
    hap[1, :] = 0
    return hap, pops


def vcf_text(
    haplotypes: np.ndarray,
    positions: np.ndarray | None = None,
    contig: str | list[str] = "1",
    samples: list[str] | None = None,
    extra_records: list[str] | None = None,
) -> str:
    """VCF text for phased haplotypes, rows (S0_A, S0_B, S1_A, ...) × variants."""
    n_hap, n_var = haplotypes.shape
    samples = samples or [f"S{i:03d}" for i in range(n_hap // 2)]
    positions = np.arange(1, n_var + 1) * 100 if positions is None else positions
    contigs = [contig] * n_var if isinstance(contig, str) else contig
    lines = [HEADER.format(contig=contigs[0], samples="\t".join(samples)).rstrip("\n")]
    for c in dict.fromkeys(contigs):
        if c != contigs[0]:
            lines.insert(1, f"##contig=<ID={c},length=100000000>")
    for j in range(n_var):
        gts = "\t".join(
            f"{haplotypes[2 * i, j]}|{haplotypes[2 * i + 1, j]}" for i in range(len(samples))
        )
        lines.append(f"{contigs[j]}\t{positions[j]}\trs{j}\tA\tG\t.\tPASS\t.\tGT\t{gts}")
    lines.extend(extra_records or [])
    return "\n".join(lines) + "\n"


def write_vcf(path: Path, text: str) -> Path:
    """Write VCF text; ``.gz`` paths are BGZF-compressed (as htslib expects)."""
    path = Path(path)
    if path.suffix == ".gz":
        from cyvcf2 import VCF, Writer

        plain = path.with_suffix("")
        plain.write_text(text)
        reader = VCF(str(plain))
        writer = Writer(str(path), reader, mode="wz")
        for rec in reader:
            writer.write_record(rec)
        writer.close()
        reader.close()
        plain.unlink()
    else:
        path.write_text(text)
    return path


def write_gzip(path: Path, text: str) -> Path:
    """Plain gzip (not BGZF), for error tests."""
    with gzip.open(path, "wt") as handle:
        handle.write(text)
    return path
