"""A VCF's phased diploid calls at exactly given biallelic sites (``encode --vcf``,
``evaluate --synthetic``).

The records come from the training readers (:class:`~vae_genomics.data.vcf.VcfSource`: file,
header, BGZF and index-age checks; allele indices, ploidy and malformed calls checked record by
record), so a file the training reader refuses is refused here with the same message. On top,
the sites a model needs are checked for what encoding needs: every call present, diploid and
phased (or homozygous), the record with a GT field, and a site given once (or repeated with the
same calls). A region read through the index that fails or misses sites is checked against a
scan of the file, so an index made for another file is named as such instead of the sites
being reported missing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import vae_genomics.data.htsvcf as htsvcf
from vae_genomics.common.errors import DataError
from vae_genomics.data.builder import RecordOrder
from vae_genomics.data.matrix import ABSENT, MISSING
from vae_genomics.data.sections import Region
from vae_genomics.data.sites import CANDIDATE, Batch
from vae_genomics.data.textvcf import TextVcfReader
from vae_genomics.data.vcf import VcfSource, unknown_contig


@dataclass
class SiteCalls:
    """Calls of a VCF at given sites.

    Attributes:
        haplotypes: int8, shape (2 * n_samples, n_sites), 0/1, columns in the order asked for.
        sample_ids: Samples in file order.
    """

    haplotypes: np.ndarray
    sample_ids: np.ndarray


def read_at_sites(
    path: str | Path, contig: str, positions: np.ndarray, ref: Sequence[str], alt: Sequence[str]
) -> SiteCalls:
    """Read the phased diploid calls of a VCF/BCF at exactly the given biallelic sites.

    A record matches a site when contig, position, REF and ALT are equal; other records are
    ignored (no frequency filter: a site monomorphic in this file is kept). The region from the
    first to the last site is read through the file's index when it has one.

    Args:
        path: VCF, bgzipped VCF or BCF with a GT field.
        contig: Contig name as in the run's data.
        positions: 1-based positions of the sites, shape (n_sites,).
        ref: REF allele per site.
        alt: ALT allele per site.

    Returns:
        The calls at the sites.

    Raises:
        DataError: The file, its header or its index cannot be used (an index older than the file
            or made for another one); a record in the region is damaged (allele index beyond ALT,
            more than two alleles, malformed call, bad POS, unsorted); a site's record has no GT
            field, a missing, haploid or unphased heterozygous call, or is repeated with other
            calls; sites are missing (the message names them).
    """
    source = VcfSource(path)
    source.warn_unindexed = False  # a section's region: a scan is expected to be short
    known = source.contigs
    if known and contig not in known:  # the run's contig, which the user did not type
        exc = unknown_contig(source.path, contig, known, "the contig of the run's sites")
        raise DataError(
            f"{exc} The file must name the run's contig as the training data did: rename its "
            f"contigs (e.g. `bcftools annotate --rename-chrs`) or write it with '{contig}'."
        )
    positions = np.asarray(positions, dtype=np.int64)
    samples = source.header.samples
    sites = _Sites(
        source.path, contig, positions, list(map(str, ref)), list(map(str, alt)), samples
    )
    lo, hi = int(positions.min()), int(positions.max())
    region = Region(f"{contig}:{lo}-{hi}", contig, lo, hi)
    indexed = source.index is not None
    failure: DataError | None = None
    try:
        for batch in source.batches(None, region, sites.allocate, progress=False):
            sites.add(batch)
    except DataError as exc:
        # htslib stopped on something it cannot parse (its message says little) or on offsets of
        # an index that does not fit the file: a scan below decides which
        if not indexed or exc.__cause__ is None or isinstance(exc.__cause__, DataError):
            raise
        failure = exc
    if indexed and (failure is not None or sites.missing()):
        scanned = _Sites(source.path, contig, positions, sites.ref, sites.alt, samples)
        for batch in _scan(source, region, scanned.allocate):
            scanned.add(batch)  # a damaged record raises its own message here
        if len(scanned.columns) > len(sites.columns):
            raise _index_mismatch(source, region, len(sites.columns), len(scanned.columns))
        if failure is not None:  # htslib alone refuses something: its message stands
            raise failure
    if sites.missing() and not sites.seen_contigs and not source.contigs:
        # nothing in the region and no contig list in the header: name the contigs the file has
        sites.seen_contigs.update(
            c for batch in _scan(source, None, sites.allocate) for c in batch.chrom
        )
    sites.check_complete()
    haplotypes = np.stack([sites.columns[j] for j in range(len(positions))], axis=1)
    return SiteCalls(haplotypes=haplotypes, sample_ids=samples)


def _scan(
    source: VcfSource, region: Region | None, allocate: Callable[[int], np.ndarray]
) -> Iterator[Batch]:
    """The region's records (all records without one) read without the index (the text reader
    for VCF text)."""
    bounds = None if region is None else (region.contig, region.start, region.end)
    if source.kind == "bcf":
        yield from htsvcf.htslib_batches(
            source.path, source.header, None, bounds, allocate, None, indexed=False
        )
    else:
        yield from TextVcfReader(source.path, source.kind).batches(None, bounds, allocate)


def _index_mismatch(source: VcfSource, region: Region, through: int, scanned: int) -> DataError:
    return DataError(
        f"{source.index}: reading {region.label} through this index found {through} of the "
        f"section's sites where a scan of {source.path.name} finds {scanned}: the index does not "
        "belong to this file (it was made for another file, or before the file was rewritten). "
        f"Re-index it: `tabix -f -p vcf {source.path}` (or `bcftools index -f`)."
    )


def _call_text(alleles: np.ndarray, unphased: bool) -> str:
    """A call as written, e.g. ``0|1``, ``./.`` or ``1`` (for messages)."""
    shown = ["." if a == MISSING else str(int(a)) for a in alleles if a != ABSENT]
    return ("/" if unphased else "|").join(shown) or "."


@dataclass
class _Sites:
    """The sites asked for and the calls found so far (column per site)."""

    path: Path
    contig: str
    positions: np.ndarray
    ref: list[str]
    alt: list[str]
    sample_ids: np.ndarray
    columns: dict[int, np.ndarray] = field(default_factory=dict)
    found_ids: dict[int, str] = field(default_factory=dict)
    other_alleles: list[str] = field(default_factory=list)
    seen_contigs: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.wanted = {
            (int(p), r, a): j
            for j, (p, r, a) in enumerate(zip(self.positions, self.ref, self.alt, strict=True))
        }
        self.order = RecordOrder(str(self.path))
        self.width = 2 * len(self.sample_ids)

    def allocate(self, n: int) -> np.ndarray:
        return np.empty((n, self.width), dtype=np.int8)

    def missing(self) -> list[int]:
        return [j for j in range(len(self.positions)) if j not in self.columns]

    def add(self, batch: Batch) -> None:
        """Keep the calls of the batch's records that are sites asked for (checked)."""
        if not batch.chrom:
            return
        self.order.codes(batch.chrom, batch.positions)
        self.seen_contigs.update(batch.chrom)
        row_of = np.cumsum(batch.kind == CANDIDATE) - 1
        near = np.flatnonzero(np.isin(batch.positions, self.positions))
        for i in near:
            if batch.chrom[i] != self.contig:
                continue
            pos, ref, alt = int(batch.positions[i]), batch.ref[i], batch.alt[i]
            j = self.wanted.get((pos, ref, alt))
            if j is None or batch.kind[i] != CANDIDATE:
                self.other_alleles.append(f"{self.contig}:{pos} {ref}>{alt}")
                continue
            row = int(row_of[i])
            alleles = np.array(batch.genotypes[row], dtype=np.int8)
            slash = None if batch.unphased is None else batch.unphased[row]
            no_gt = batch.no_gt is not None and bool(batch.no_gt[row])
            self._check(pos, alleles, slash, no_gt)
            self._keep(j, pos, batch.ids[i], alleles)

    def _check(self, pos: int, alleles: np.ndarray, slash: np.ndarray | None, no_gt: bool) -> None:
        """Raise the error a site's record deserves (no GT, missing, haploid, unphased)."""
        where = f"{self.path}: record {self.contig}:{pos}"
        if no_gt:
            raise DataError(
                f"{where} has no GT field (its FORMAT column lacks GT), so it holds no genotypes; "
                "every site of the section needs phased GT calls. Re-export the file with its "
                "GT field (e.g. `bcftools view` without dropping FORMAT/GT)."
            )
        first, second = alleles[0::2], alleles[1::2]
        phased = np.zeros(len(first), dtype=bool)
        for mask, problem, advice in (
            (
                (first == MISSING) | (second == MISSING),
                "a missing call",
                "encoding needs a call for every sample at every site; impute the file first "
                "(e.g. with Beagle)",
            ),
            (
                second == ABSENT,
                "a haploid call",
                "encoding reads two haplotypes per sample, so every call must be diploid (e.g. "
                "'0|1'); write haploid calls as homozygous diploid ones ('1' as '1|1', as "
                "`bcftools +fixploidy` does) if that is what is meant",
            ),
            (
                (phased if slash is None else slash) & (first != second),
                "an unphased heterozygous call",
                "haplotypes need phased calls ('0|1'); phase the file first (e.g. SHAPEIT, Beagle)",
            ),
        ):
            if mask.any():
                s = int(np.argmax(mask))
                call = _call_text(alleles[2 * s : 2 * s + 2], slash is not None and bool(slash[s]))
                raise DataError(
                    f"{where} has {problem} '{call}' for sample {self._sample(s)}: {advice}."
                )

    def _keep(self, j: int, pos: int, rid: str, alleles: np.ndarray) -> None:
        """Store a site's calls; a second record of the site must carry the same calls."""
        kept = self.columns.get(j)
        if kept is not None and not np.array_equal(kept, alleles):
            s = int(np.argmax((kept != alleles).reshape(-1, 2).any(axis=1)))
            raise DataError(
                f"{self.path}: two records at {self.contig}:{pos} {self.ref[j]}>{self.alt[j]} "
                f"(ID '{self.found_ids[j]}', then ID '{rid}') have different calls, e.g. sample "
                f"{self._sample(s)}: '{_call_text(kept[2 * s : 2 * s + 2], False)}' then "
                f"'{_call_text(alleles[2 * s : 2 * s + 2], False)}'. Which one is meant is "
                "unclear: remove one of them (`bcftools norm -d exact` keeps the first) and run "
                "it again."
            )
        self.columns[j] = alleles
        self.found_ids.setdefault(j, rid)

    def _sample(self, s: int) -> str:
        return f"'{self.sample_ids[s]}'"

    def check_complete(self) -> None:
        """Raise the error naming the missing sites (with a hint on contig names or alleles)."""
        missing = self.missing()
        if not missing:
            return
        p, ref, alt = self.positions, self.ref, self.alt
        shown = ", ".join(f"{self.contig}:{p[j]} {ref[j]}>{alt[j]}" for j in missing[:5])
        hint = ""
        if self.contig not in self.seen_contigs and self.seen_contigs:
            hint = (
                f" The file has no records on contig '{self.contig}' in that range (contigs "
                f"seen: {', '.join(sorted(self.seen_contigs)[:5])}); check the contig naming "
                "(e.g. 22 vs chr22)."
            )
        elif self.other_alleles:
            hint = (
                f" {len(self.other_alleles)} records there have other alleles, e.g. "
                f"{self.other_alleles[0]}."
            )
        raise DataError(
            f"{self.path}: {len(missing)} of the section's {len(p)} sites are missing "
            f"(e.g. {shown}). The model needs every site of its section with the same REF and "
            f"ALT alleles.{hint}"
        )


@dataclass
class SiteHaplotypes:
    """Haplotypes of a VCF at given sites.

    Attributes:
        haplotypes: int8, shape (2 * n_samples, n_sites), 0/1, columns in the order asked for.
        sample_ids: Samples in file order.
        haplotype_ids: ``<sample>_A`` / ``<sample>_B`` per row.
        haplotype_samples: Sample of each row.
    """

    haplotypes: np.ndarray
    sample_ids: np.ndarray
    haplotype_ids: np.ndarray
    haplotype_samples: np.ndarray


def read_section_haplotypes(
    path: str | Path,
    contig: str,
    positions: np.ndarray,
    ref: Sequence[str],
    alt: Sequence[str],
) -> SiteHaplotypes:
    """Read the phased haplotypes of a VCF/BCF at exactly the given biallelic sites.

    Unlike the training reader no frequency filter applies (a site monomorphic in this file is
    kept): the columns must line up with a trained model's. A record matches a site when contig,
    position, REF and ALT are equal; other records are ignored. Records are read by the training
    readers, through the file's index when there is one, and checked as strictly
    (:func:`vae_genomics.data.at_sites.read_at_sites`).

    Args:
        path: VCF, bgzipped VCF or BCF with a GT field, diploid phased calls.
        contig: The sites' contig, as :func:`~vae_genomics.data.at_sites.read_at_sites` takes it
            (with ``positions``, ``ref`` and ``alt``).
        positions: The sites' 1-based positions.
        ref: Their REF alleles.
        alt: Their ALT alleles.

    Returns:
        The haplotypes at the sites, rows named ``<sample>_A`` / ``<sample>_B``.

    Raises:
        DataError: The file or its index cannot be used; a record is damaged; sites are missing
            (count and the first ones named) or have other alleles; a site's call is missing,
            haploid or unphased heterozygous, its record has no GT field, or two records of the
            site disagree (each with its own message naming file, record and sample).
    """

    found = read_at_sites(path, contig, positions, ref, alt)
    samples = np.asarray(found.sample_ids, dtype=object)
    return SiteHaplotypes(
        haplotypes=found.haplotypes,
        sample_ids=samples,
        haplotype_ids=np.asarray([f"{s}_{h}" for s in samples for h in "AB"], dtype=object),
        haplotype_samples=np.repeat(samples, 2),
    )
