"""Writing a cache: a VCF/BCF into a new VCF Zarr store (layout in :mod:`~vae_genomics.data.cache`).

Depends on the reader side (:mod:`~vae_genomics.data.cache`: format version, fingerprint), never
the other way round.
"""

from __future__ import annotations

import contextlib
import datetime
import glob
import logging
import os
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from vae_genomics import __version__
from vae_genomics.common.errors import DataError
from vae_genomics.common.io import is_dead_job, job_token, publish_dir
from vae_genomics.data.builder import RecordOrder
from vae_genomics.data.cache import CACHE_VERSION, COUNT_FIELDS, Cache, fingerprint, same_file
from vae_genomics.data.header import sample_index
from vae_genomics.data.sites import CANDIDATE, Batch, SiteStats
from vae_genomics.data.vcf import VcfSource
from vae_genomics.data.zarr_io import ZarrAppender, open_store

log = logging.getLogger(__name__)

META_CHUNK = 1 << 14  # variants (records) per chunk of the 1-D and per-site arrays


class CacheWriter:
    """Streams batches into a new VCF Zarr store (layout in :mod:`~vae_genomics.data.cache`).

    Args:
        out: Directory to create.
        header_text: The VCF header (stored as an attribute).
        sample_ids: Samples of the genotype columns.
        contig_lengths: Lengths from the header's ``##contig`` lines (``None`` when not given).
        chunk_variants: Variants per genotype chunk.
        source: The VCF's name, for messages.
    """

    def __init__(
        self,
        out: Path,
        header_text: str,
        sample_ids: np.ndarray,
        contig_lengths: dict[str, int | None],
        chunk_variants: int = 1000,
        source: str = "",
    ) -> None:
        self.group = open_store(out, mode="w")
        self.sample_ids = np.asarray(sample_ids, dtype=object)
        self.contig_lengths = contig_lengths
        self.header_text = header_text
        n = len(sample_ids)
        samples_chunk = min(n, 10_000)
        group, meta = self.group, META_CHUNK
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="cache-write")
        self.genotype = ZarrAppender(
            group, "call_genotype", (n, 2), "i1", chunk_variants,
            ("variants", "samples", "ploidy"), (samples_chunk, 2), genotypes=True, pool=self.pool,
        )  # fmt: skip
        self.phased = ZarrAppender(
            group, "call_genotype_phased", (n,), "bool", chunk_variants,
            ("variants", "samples"), (samples_chunk,), genotypes=True, fill_value=True,
            pool=self.pool,
        )  # fmt: skip
        self.position = ZarrAppender(group, "variant_position", (), "i4", meta, ("variants",))
        self.contig = ZarrAppender(group, "variant_contig", (), "i4", meta, ("variants",))
        self.ids = ZarrAppender(group, "variant_id", (), str, meta, ("variants",))
        self.allele = ZarrAppender(
            group, "variant_allele", (2,), str, meta, ("variants", "alleles")
        )
        self.counts = ZarrAppender(
            group, "variant_vaeg_counts", (5,), "i4", meta, ("variants", "vaeg_count_fields")
        )
        self.records = ZarrAppender(
            group, "vaeg_records", (3,), "i4", meta, ("vaeg_records", "vaeg_record_fields")
        )
        self.order = RecordOrder(source or str(out))
        self._spans: dict[int, list[int]] = {}
        self.n_records = self.n_variants = 0
        self._scratch = np.empty((0, 2 * n), dtype=np.int8)

    def allocate(self, n: int) -> np.ndarray:
        """Scratch rows a reader decodes the next batch's candidates into."""
        if len(self._scratch) < n:
            self._scratch = np.empty((n, self._scratch.shape[1]), dtype=np.int8)
        return self._scratch[:n]

    def add(self, batch: Batch) -> None:
        """Append one batch (no filtering: the cache keeps raw calls)."""
        codes = self.order.codes(batch.chrom, batch.positions)
        n_rec = len(codes)
        cand = np.flatnonzero(batch.kind == CANDIDATE)
        self.records.append(np.stack([codes, batch.positions, batch.kind], axis=1))
        for code in np.unique(codes):  # [first, last + 1) records and variants of each contig
            where = np.flatnonzero(codes == code)
            first_var = int(np.searchsorted(cand, where[0]))
            end_var = int(np.searchsorted(cand, where[-1], side="right"))
            span = self._spans.setdefault(
                int(code), [self.n_records + int(where[0]), 0, self.n_variants + first_var, 0]
            )
            span[1] = self.n_records + int(where[-1]) + 1
            span[3] = self.n_variants + end_var
        self.n_records += n_rec
        if cand.size == 0:
            return
        genotypes = batch.genotypes
        stats = SiteStats.compute(genotypes, batch.unphased, batch.clean)
        n_samples = len(self.sample_ids)
        self.genotype.append(genotypes.reshape(len(cand), n_samples, 2))
        phased = (
            np.ones((len(cand), n_samples), bool) if batch.unphased is None else ~batch.unphased
        )
        self.phased.append(phased)
        self.position.append(batch.positions[cand].astype(np.int32))
        self.contig.append(codes[cand])
        self.ids.append(np.asarray([batch.ids[i] for i in cand], dtype=object))
        alleles = [(batch.ref[i], batch.alt[i]) for i in cand]
        self.allele.append(np.asarray(alleles, dtype=object).reshape(len(cand), 2))
        self.counts.append(np.stack(stats.fields(), axis=1))
        self.n_variants += len(cand)

    def abort(self) -> None:
        """Stop the background writes (the caller removes the directory)."""
        self.pool.shutdown(wait=True, cancel_futures=True)

    def finish(self, source: dict[str, object]) -> None:
        """Write the remaining chunks and the metadata."""
        for part in (self.genotype, self.phased, self.position, self.contig, self.ids):
            part.close()
        for part in (self.allele, self.counts, self.records):
            part.close()
        self.pool.shutdown()
        names = list(self.order.contigs)
        lengths = [self.contig_lengths.get(c) or -1 for c in names]
        for name, values, dtype, dims in (
            ("sample_id", self.sample_ids, str, ["samples"]),
            ("contig_id", np.asarray(names, dtype=object), str, ["contigs"]),
            ("contig_length", np.asarray(lengths, dtype=np.int64), "i8", ["contigs"]),
        ):
            array = self.group.create_array(
                name, shape=values.shape, dtype=dtype, chunks=(max(1, len(values)),),
                attributes={"_ARRAY_DIMENSIONS": dims},
            )  # fmt: skip
            if len(values):
                array[:] = values
        spans = {names[code]: span for code, span in self._spans.items()}
        self.group.attrs.update(
            {
                "vcf_zarr_version": "0.4",
                "source": f"vae-genomics-{__version__}",
                "vcf_header": self.header_text,
                "vae_genomics": {
                    "cache_version": CACHE_VERSION,
                    "vcf": source,
                    "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                    "n_records": self.n_records,
                    "n_variants": self.n_variants,
                    "contigs": spans,
                    "count_fields": list(COUNT_FIELDS),
                    "record_fields": ["contig", "position", "class"],
                },
            }
        )


def write_cache(
    vcf: str | Path,
    out: str | Path,
    samples: list[str] | None = None,
    chunk_variants: int = 1000,
    overwrite: bool = False,
    progress: bool | None = None,
) -> Path:
    """Convert a VCF/BCF into a cache directory (see :mod:`~vae_genomics.data.cache`).

    The store is built in a temporary sibling directory of this job's own
    (``.<name>.<host>.<pid>.partial``) and renamed into place when complete, exclusively
    (:func:`~vae_genomics.common.io.publish_dir`): an existing ``out`` is checked before the
    conversion (so a refusal costs nothing) and again at the rename, where one that appeared
    meanwhile is kept and the new store discarded (an identical cache: kept, without an error;
    another: refused unless ``overwrite``). Temporary directories of conversions killed on this host
    are removed.

    Args:
        vcf: The VCF/BCF.
        out: The cache directory to create (conventionally ``<name>.vcz``).
        samples: Sample IDs to keep (default: all).
        chunk_variants: Variants per genotype chunk.
        overwrite: Replace an existing cache made from another file or with other samples.
        progress: Show a progress bar (default: when stderr is a terminal).

    Returns:
        ``out``. An existing complete cache of the same file and samples is left as it is.

    Raises:
        DataError: Unreadable input, or ``out`` exists (or appeared meanwhile) and ``overwrite`` is
            false, or it is not a cache this program may replace (:func:`check_replaceable`).
    """
    out = Path(out)
    source = VcfSource(vcf)
    made_from = fingerprint(source.path)
    columns = sample_index(source.header.samples, samples, str(source.path))
    sample_ids = source.header.samples[columns]
    if _up_to_date(out, made_from, sample_ids):
        log.info("%s is up to date (made from %s)", out, source.path)
        return out
    _check_writable(out, source.path, overwrite)  # before the work; again at the rename
    _remove_stale(out)
    partial = out.with_name(f".{out.name}.{job_token()}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    writer = CacheWriter(
        partial, source.header.text, sample_ids, source.header.contigs, chunk_variants,
        str(source.path),
    )  # fmt: skip
    subset = columns if len(columns) < len(source.header.samples) else None
    try:
        for batch in source.batches(subset, None, writer.allocate, progress):
            writer.add(batch)
        writer.finish(made_from)
    except BaseException:  # leave nothing half-written behind
        writer.abort()
        shutil.rmtree(partial, ignore_errors=True)
        raise
    _publish(partial, out, source.path, lambda: _up_to_date(out, made_from, sample_ids), overwrite)
    log.info(
        "%s: cached %d biallelic SNPs of %d records for %d samples in %s",
        source.path.name, writer.n_variants, writer.n_records, len(sample_ids), out,
    )  # fmt: skip
    return out


def _up_to_date(out: Path, made_from: dict[str, object], sample_ids: np.ndarray) -> bool:
    """Whether ``out`` is a complete cache of the same file with these samples."""
    if not (out.exists() or out.is_symlink()):
        return False
    existing = _existing(out)
    return (
        existing is not None
        and same_file(existing.source, made_from)
        and list(existing.sample_ids) == list(sample_ids)
    )


def _check_writable(out: Path, vcf: Path, overwrite: bool) -> None:
    """Refuse an existing ``out`` that may not be replaced (an empty directory may)."""
    if not (out.exists() or out.is_symlink()):
        return
    check_replaceable(out, vcf)
    if not overwrite and not _is_empty_dir(out):
        raise DataError(
            f"{out}: exists and is not a cache of {vcf} with these samples. Pass "
            "--overwrite to replace it, or choose another --out."
        )


def _publish(
    partial: Path, out: Path, vcf: Path, up_to_date: Callable[[], bool], overwrite: bool
) -> None:
    """Rename the finished store ``partial`` to ``out`` exclusively (see :func:`write_cache`).

    ``partial`` is removed whatever happens (it is ``out`` once published).

    Raises:
        DataError: Something other than the same cache appeared at ``out`` meanwhile and
            ``overwrite`` is false, or it may not be replaced (:func:`check_replaceable`).
    """
    try:
        if publish_dir(partial, out):
            return
        if up_to_date():
            log.info("%s: the same cache was written meanwhile (another job?); it is kept", out)
            return
        if not overwrite:
            raise DataError(
                f"{out}: appeared while this cache was being written (another job?) and is not a "
                f"cache of {vcf} with these samples; it was left as it is and the new cache "
                "discarded. Pass --overwrite to replace it, or choose another --out."
            )
        check_replaceable(out, vcf)
        aside = out.with_name(f".{out.name}.{job_token()}.old")
        shutil.rmtree(aside, ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            os.rename(out, aside)
        try:
            if not publish_dir(partial, out):
                raise DataError(
                    f"{out}: written again by another job while this one replaced it; that one "
                    "was kept and the new cache discarded. Run the command again if it is not "
                    "the cache you want."
                )
        finally:
            shutil.rmtree(aside, ignore_errors=True)
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def _remove_stale(out: Path) -> None:
    """Remove the temporary directories beside ``out`` of conversions killed on this host."""
    prefix = f".{out.name}."
    for path in out.parent.glob(f"{glob.escape(prefix)}*"):
        for suffix in (".partial", ".old"):
            token = path.name[len(prefix) : -len(suffix)]
            if (
                path.name.endswith(suffix)
                and token
                and not path.is_symlink()
                and is_dead_job(token)
            ):
                log.info("%s: removing what a killed conversion left", path)
                shutil.rmtree(path, ignore_errors=True)


def is_cache_dir(path: Path) -> bool:
    """Whether ``path`` is a directory this program wrote as a cache (any version, or an old one).

    The marker is the ``vae_genomics`` entry of the Zarr group's ``.zattrs``; a directory without
    it (even a Zarr store of another program) is not a cache of this program.
    """
    import json

    attrs = Path(path) / ".zattrs"
    if path.is_symlink() or not path.is_dir() or not attrs.is_file():
        return False
    try:
        meta = json.loads(attrs.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(meta, dict) and isinstance(meta.get("vae_genomics"), dict)


def check_replaceable(out: Path, vcf: Path) -> None:
    """Refuse to replace ``out`` unless it is a cache of this program that does not hold ``vcf``.

    Raises:
        DataError: ``out`` is a file, a link, a directory that is not such a cache, or the
            directory holding the VCF being cached (an empty directory may be replaced).
            ``--overwrite`` does not change this.
    """
    if out.is_symlink() or not out.is_dir():
        raise DataError(
            f"{out}: exists and is not a directory (a file or a link); a cache is a directory. "
            "It is never replaced: choose another --out, or move it aside yourself."
        )
    if Path(vcf).resolve().is_relative_to(out.resolve()):
        raise DataError(
            f"{out}: holds the VCF being cached ({vcf}); it is never replaced. Choose another --out."
        )
    if not is_cache_dir(out) and not _is_empty_dir(out):
        raise DataError(
            f"{out}: exists and is not a vae-genomics cache (no cache marker in its .zattrs); "
            "it is never replaced, even with --overwrite. Choose another --out, or remove it "
            "yourself if it is disposable."
        )


def _is_empty_dir(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink() and not any(path.iterdir())


def _existing(path: Path) -> Cache | None:
    try:
        return Cache(path)
    except DataError:
        return None
