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
    lines = HEADER.format(contig=contigs[0], samples="\t".join(samples)).rstrip("\n").split("\n")
    for c in dict.fromkeys(contigs):
        if c != contigs[0]:
            lines.insert(-2, f"##contig=<ID={c},length=100000000>")
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


def vcf_from_records(
    samples: list[str],
    records: list[tuple],
    contigs: tuple[str, ...] = ("1",),
) -> str:
    """VCF text from ``(contig, pos, ref, alt, calls[, format])`` tuples (calls as written)."""
    header = [
        "##fileformat=VCFv4.2",
        *(f"##contig=<ID={c},length=100000000>" for c in contigs),
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Depth">',
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(samples),
    ]
    lines = []
    for contig, pos, ref, alt, calls, *fmt in records:
        fmt = fmt[0] if fmt else "GT"
        lines.append(f"{contig}\t{pos}\t.\t{ref}\t{alt}\t.\tPASS\t.\t{fmt}\t" + "\t".join(calls))
    return "\n".join(header + lines) + "\n"


#: Every kind of record real cohorts carry, on contig 1 and a chrX-like contig "X" where the
#: male samples M1, M2 are haploid outside a pseudo-autosomal stretch (positions < 1000).
MESSY_SAMPLES = ["F1", "M1", "F2", "M2"]
MESSY_RECORDS = [
    ("1", 100, "A", "G", ["0|1", "1|1", "0|0", "1|0"]),
    ("1", 110, "A", "G,T", ["0|2", "1|1", "0|0", "1|0"]),  # multi-allelic
    ("1", 120, "AT", "A", ["0|1", "1|1", "0|0", "1|0"]),  # indel
    ("1", 130, "AC", "GT", ["0|1", "1|1", "0|0", "1|0"]),  # MNP
    ("1", 140, "C", "<DEL>", ["0|1", "1|1", "0|0", "1|0"]),  # symbolic
    ("1", 150, "A", "G", ["0|1:3", "1|0:4", "0|0:5", "1|1:2"], "GT:DP"),
    ("1", 160, "A", "G", ["0|1", ".|.", "0|0", "1|0"]),  # missing call
    ("1", 170, "A", "G", ["1/1", "0|1", "0/0", "1|0"]),  # unphased homozygous: fine
    ("1", 180, "A", ".", ["0|0", "0|0", "0|0", "0|0"]),  # no ALT allele
    ("1", 190, "C", "T", ["0|0", "0|0", "0|0", "0|0"]),  # monomorphic
    ("1", 200, "C", "T", ["0|0", "0|0", "0|1", "0|0"]),  # singleton
    ("1", 210, "G", "A", ["1|.", "0|1", "0|0", "1|1"]),  # half-missing call
    ("X", 500, "A", "G", ["0|1", "1|0", "1|1", "0|0"]),  # pseudo-autosomal: males diploid
    ("X", 2000, "A", "G", ["0|1", "1", "1|0", "0"]),
    ("X", 2100, "A", "G", ["1|1", "0", "0|1", "."]),  # a missing haploid call
    ("X", 2200, "C", "T", ["0|0", "1", "0|1", "1"]),
]


def messy_vcf_text() -> str:
    """The :data:`MESSY_RECORDS` as VCF text."""
    return vcf_from_records(MESSY_SAMPLES, MESSY_RECORDS, contigs=("1", "X"))


def write_indexed(path: Path, text: str, csi: bool = False) -> Path:
    """BGZF-compress VCF text to ``path`` (``.vcf.gz``) and index it (.tbi, or .csi)."""
    import pysam

    plain = Path(path).with_name(Path(path).name + ".tmp.vcf")
    plain.write_text(text)
    pysam.tabix_compress(str(plain), str(path), force=True)
    pysam.tabix_index(str(path), preset="vcf", force=True, csi=csi)
    plain.unlink()
    return Path(path)


def write_bcf(path: Path, text: str, index: bool = True) -> Path:
    """Write VCF text as BCF (and its .csi index)."""
    from cyvcf2 import VCF, Writer

    plain = Path(path).with_suffix(".tmp.vcf")
    plain.write_text(text)
    reader = VCF(str(plain))
    writer = Writer(str(path), reader, mode="wb")
    for rec in reader:
        writer.write_record(rec)
    writer.close()
    reader.close()
    plain.unlink()
    if index:
        from pysam import bcftools

        bcftools.index(str(path))
    return Path(path)
