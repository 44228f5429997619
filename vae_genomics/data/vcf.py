"""VCF/BCF → :class:`HaplotypeMatrix`: file checks, reader choice, sample subsets, regions.

Two readers produce the same records (tested against each other):

- the numpy text reader (:mod:`vae_genomics.data.textvcf`) for plain, gzip and BGZF VCF text, used
  to read whole files and to scan files without an index; about 8 times faster than
  ``allel.read_vcf`` on a phased 5,000-haplotype file (BENCHMARKS.md);
- htslib through cyvcf2 (:mod:`vae_genomics.data.htsvcf`) for BCF and for region queries through a
  ``.tbi``/``.csi`` index.

Filters, the missing and unphased policies and the record log are shared
(:mod:`vae_genomics.data.sites`); ploidy and imputation are resolved per section
(:mod:`vae_genomics.data.matrix`).
"""

from __future__ import annotations

import difflib
import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal

import numpy as np
from tqdm import tqdm

import vae_genomics.data.htsvcf as htsvcf
from vae_genomics.common.errors import DataError
from vae_genomics.common.io import read_text_file, require_file
from vae_genomics.data.builder import MatrixBuilder
from vae_genomics.data.header import VcfHeader, sample_index
from vae_genomics.data.inflate import check_bgzf_eof, file_kind
from vae_genomics.data.matrix import HaplotypeMatrix
from vae_genomics.data.sections import Region, parse_region
from vae_genomics.data.sites import Batch, Filters, MissingPolicy, log_counts
from vae_genomics.data.textvcf import TextVcfReader

log = logging.getLogger(__name__)

Engine = Literal["auto", "text", "htslib"]


def index_path(path: Path) -> Path | None:
    """The ``.tbi`` or ``.csi`` index next to ``path``, if any."""
    for suffix in (".tbi", ".csi"):
        candidate = path.with_name(path.name + suffix)
        if candidate.is_file():
            return candidate
    return None


#: Seconds an index may predate its file (copies of both files land a moment apart).
INDEX_AGE_TOLERANCE = 2.0


def check_index_age(path: Path, index: Path | None) -> None:
    """Refuse an index older than its file: region reads would follow stale offsets.

    A VCF rewritten after it was indexed keeps an index whose blocks point at the old layout, and
    a region read through it silently skips or repeats records.

    Raises:
        DataError: ``index`` was last modified more than :data:`INDEX_AGE_TOLERANCE` seconds
            before ``path``.
    """
    if index is None:
        return
    age = path.stat().st_mtime - index.stat().st_mtime
    if age > INDEX_AGE_TOLERANCE:
        raise DataError(
            f"{index}: the index is {age:.0f} s older than {path.name}, which changed after it was "
            f"indexed; region reads through it would miss records. Re-index: `tabix -f -p vcf "
            f"{path}` (or `bcftools index -f`). If the file did not change, `touch {index}`."
        )


#: What each configured input file is and what to do when it is missing (``common.io.require_file``).
VCF_FILE = ("VCF/BCF file", "Check data.vcf or --vcf.")
SAMPLE_LIST = ("sample list", "Fix data.samples or set it to null.")
POPULATION_FILE = ("population file", "Fix data.populations or set it to null.")


def check_file(path: str | Path) -> Path:
    """``path`` as a Path; raises a :class:`DataError` when it is missing or empty."""
    path = require_file(path, *VCF_FILE)
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty. Expected a VCF, bgzipped VCF or BCF.")
    return path


class VcfSource:
    """An opened VCF/BCF: its header, index and the reader to use for a request.

    Args:
        path: The file.
        engine: ``"auto"`` (text reader for VCF text unless an indexed region is asked for),
            ``"text"`` or ``"htslib"``.
        allow_truncated: Read a BGZF file without its end-of-file marker (a warning); otherwise
            it is an error, as a copy cut short at a block boundary reads as a shorter file.
    """

    def __init__(
        self, path: str | Path, engine: Engine = "auto", allow_truncated: bool = False
    ) -> None:
        self.path = check_file(path)
        self.kind = file_kind(self.path)
        check_bgzf_eof(self.path, allow_truncated)
        self.engine = engine
        self.index = index_path(self.path)
        check_index_age(self.path, self.index)
        if engine == "text" and self.kind == "bcf":
            raise ValueError("the text reader cannot read BCF")
        self.warn_unindexed = True
        self._text: TextVcfReader | None = None
        if self.kind != "bcf" and engine != "htslib":
            self._text = TextVcfReader(self.path, self.kind)
            self.header: VcfHeader = self._text.header
            self.indexed_contigs: list[str] = []
        else:
            self.header, self.indexed_contigs = htsvcf.read_header(self.path)

    @property
    def contigs(self) -> list[str]:
        """Contigs named by the header or the index."""
        return list(dict.fromkeys([*self.header.contigs, *self.indexed_contigs]))

    def check_contig(self, contig: str) -> None:
        """Raise a :class:`DataError` when ``contig`` is known not to be in the file."""
        known = self.contigs
        if known and contig not in known:
            raise unknown_contig(self.path, contig, known)

    def record_count(self) -> int:
        """Records in the file according to its index (0 when unknown)."""
        if self.index is None:
            return 0
        try:
            vcf = htsvcf.open_vcf(self.path)
            try:
                return int(vcf.num_records)
            finally:
                vcf.close()
        except Exception:  # an index without record counts
            return 0

    def batches(
        self,
        columns: np.ndarray | None,
        region: Region | None,
        allocate: Callable[[int], np.ndarray],
        progress: bool | None = None,
    ) -> Iterator[Batch]:
        """Batches of the file, or of one region (through the index when there is one)."""
        bounds = (region.contig, region.start, region.end) if region else None
        use_index = region is not None and self.index is not None and self.engine != "text"
        show = sys.stderr.isatty() if progress is None else progress
        if region is not None and self.index is None:
            (log.warning if self.warn_unindexed else log.info)(
                "%s: no index (.tbi/.csi) next to the file, so reading region %s scans the whole "
                "file. Index it once: `tabix -p vcf %s` (or `bcftools index`).",
                self.path, region.label, self.path,
            )  # fmt: skip
        if self._text is not None and not use_index:
            reader, self._text = self._text, None
            if reader is None:  # pragma: no cover - a source is read once
                raise RuntimeError("VcfSource.batches may be called once")
            bar = tqdm(
                desc=f"reading {self.path.name}", unit="B", unit_scale=True, disable=not show
            )
            yield from reader.batches(columns, bounds, allocate, progress=bar.update)
            bar.close()
            return
        bar = tqdm(desc=f"reading {self.path.name}", unit=" records", disable=not show)
        yield from htsvcf.htslib_batches(
            self.path, self.header, columns, bounds, allocate, bar.update, self.index is not None
        )
        bar.close()


def unknown_contig(source: Path | str, contig: str, known: list[str], what: str = "") -> DataError:
    """The error for a contig that is not in a file, with the nearest names.

    Args:
        source: The file.
        contig: The contig asked for.
        known: The file's contigs.
        what: What asked for it, e.g. ``"region 'x' of data.regions"``.
    """
    alternatives = {contig[3:] if contig.startswith("chr") else f"chr{contig}"}
    close = [c for c in known if c in alternatives] or difflib.get_close_matches(contig, known, 3)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    shown = ", ".join(known[:10]) + (f" and {len(known) - 10} more" if len(known) > 10 else "")
    asked = f" ({what})" if what else ""
    return DataError(
        f"{source}: contig '{contig}'{asked} is not in the file (contigs: {shown}).{hint}"
    )


def read_vcf(
    path: str | Path | VcfSource,
    min_maf: float = 0.0,
    region: str | Region | None = None,
    progress: bool | None = None,
    *,
    samples: list[str] | None = None,
    min_mac: int = 0,
    missing: MissingPolicy = "error",
    allow_unphased: bool = False,
    impute_seed: int = 0,
    genotypes: bool = True,
    engine: Engine = "auto",
) -> HaplotypeMatrix:
    """Read phased biallelic SNPs from a VCF/BCF into a haplotype matrix.

    Args:
        path: VCF, bgzipped (or gzipped) VCF, or BCF, with a GT FORMAT field (or an unread
            :class:`VcfSource` of one).
        min_maf: Minimum minor allele frequency among called alleles, in [0, 0.5].
        region: ``contig`` or ``contig:start-end`` (1-based inclusive): records whose POS is in the
            range, through the index when there is one (a full scan with a warning otherwise).
        progress: Show a progress bar (default: when stderr is a terminal).
        samples: Sample IDs to keep (file order is kept); unknown IDs are an error.
        min_mac: Minimum minor allele count among called alleles.
        missing: ``"error"``, ``"drop-site"`` or ``"impute-af"`` (see :mod:`~vae_genomics.data.sites`).
        allow_unphased: Accept unphased heterozygous calls (alleles taken in the order written).
        impute_seed: Seed of the imputation draws (``impute-af``).
        genotypes: ``False`` to apply the filters and count only (the matrix has no columns).
        engine: Reader choice (for tests and benchmarks): ``"auto"``, ``"text"`` or ``"htslib"``.

    Returns:
        The matrix, haplotypes × kept variants, with the record log and filter counts. Values may
        include MISSING/ABSENT until a range is selected (see :mod:`~vae_genomics.data.matrix`).

    Raises:
        DataError: The file cannot be read, has no samples or no GT field, a region names an
            unknown contig, or a call breaks a policy (the message names the record and sample).
    """
    source = path if isinstance(path, VcfSource) else VcfSource(path, engine)
    wanted = parse_region(region) if isinstance(region, str) else region
    if wanted is not None:
        source.check_contig(wanted.contig)
    columns = sample_index(source.header.samples, samples, str(source.path))
    filters = Filters(min_maf, min_mac, missing, allow_unphased, impute_seed)
    capacity = source.record_count() if genotypes and wanted is None else 0
    builder = MatrixBuilder(
        str(source.path), source.header.samples[columns], filters, genotypes, capacity
    )
    subset = columns if len(columns) < len(source.header.samples) else None
    for batch in source.batches(subset, wanted, builder.allocate, progress):
        builder.add(batch)
    matrix = builder.finish()
    if wanted is not None and not source.contigs and wanted.contig not in matrix.records.contigs:
        raise unknown_contig(source.path, wanted.contig, matrix.records.contigs)
    where = f"{source.path.name}{f' {wanted.label}' if wanted else ''}"
    log_counts(where, matrix.filter_counts, filters, matrix.n_haplotypes)
    return matrix


def read_sample_file(path: str | Path) -> list[str]:
    """Sample IDs from a file with one ID per line (blank lines and ``#`` comments ignored).

    Raises:
        DataError: The file is missing or lists no IDs.
    """
    path = Path(path)
    text = read_text_file(path, *SAMPLE_LIST)
    ids = [s.strip() for s in text.splitlines()]
    ids = [s.split("\t")[0] for s in ids if s and not s.startswith("#")]
    if not ids:
        raise DataError(f"{path}: the sample list is empty; give one sample ID per line.")
    duplicates = len(ids) - len(set(ids))
    if duplicates:
        log.warning("%s: %d duplicate sample IDs ignored", path, duplicates)
    return list(dict.fromkeys(ids))


def read_populations(path: str | Path, sample_ids: np.ndarray) -> np.ndarray:
    """Population label of each sample from a TSV with columns ``sample`` and ``population``.

    Args:
        path: Tab-separated file with a header naming (at least) ``sample`` and ``population``.
        sample_ids: Samples to label, shape (n_samples,).

    Returns:
        Labels, shape (n_samples,); ``"unknown"`` for samples not in the file (counted in the log).

    Raises:
        DataError: The file is missing or lacks the two columns.
    """
    import pandas as pd

    path = require_file(path, *POPULATION_FILE)
    try:
        table = pd.read_csv(path, sep="\t", dtype=str, encoding="utf-8")
    except pd.errors.EmptyDataError:
        raise DataError(
            f"{path}: the population file is empty; it needs a header line 'sample<TAB>population' "
            "and one line per sample. Fix it or set data.populations to null."
        ) from None
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path}: byte {exc.start} is not UTF-8 text; save the population file as UTF-8."
        ) from None
    except (pd.errors.ParserError, ValueError) as exc:
        raise DataError(
            f"{path}: not a tab-separated table ({str(exc)[:200]}). Fix the population file."
        ) from None
    missing = {"sample", "population"} - set(table.columns)
    if missing:
        raise DataError(
            f"{path}: expected tab-separated columns 'sample' and 'population' in the header, "
            f"missing {sorted(missing)} (found {list(table.columns)})."
        )
    lookup = dict(zip(table["sample"], table["population"], strict=True))
    labels = np.asarray([lookup.get(s, "unknown") for s in sample_ids], dtype=object)
    unlabeled = int((labels == "unknown").sum())
    if unlabeled:
        log.warning("%s: %d of %d samples have no population label", path, unlabeled, labels.size)
    return labels
