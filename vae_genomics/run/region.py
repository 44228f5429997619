"""Assemble a region: the finished runs of consecutive sections, checked to agree, and their data.

A region is a run of consecutive sections of one contig, each with a trained model. It is chosen
from a runs directory by section names, by a ``contig:start-end`` range (every section that
overlaps it; sites outside the range are dropped after sampling), or as every trained section.
Before anything is loaded, the sections' ``split.json`` files must agree:

- the same seed;
- the same haplotypes (the same samples);
- the same held-out haplotypes (training's split is a function of the seed and the haplotype ID,
  so sections trained with the same seed and validation fraction agree; runs of other settings or
  of an older version do not).

and the sections must follow one another without overlap (which would duplicate sites) and without
a gap no model covers: BED, bp-window and region sections must touch (the next starts one base
after the previous ends); SNP windows of one contig partition its sites, so consecutive ones
always do. Any disagreement is a :class:`~vae_genomics.common.errors.RunError` naming the sections and
what differs.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vae_genomics.common.errors import RunError, VaeGenomicsError
from vae_genomics.config import read_yaml
from vae_genomics.data.sections import parse_region
from vae_genomics.run.directory import CONFIG_FILE, LATEST, SPLIT_FILE, read_json, resolve_run_dir
from vae_genomics.run.directory import damaged as damaged_file
from vae_genomics.run.split import check_split_lists

log = logging.getLogger(__name__)

#: Sub-directory of a runs directory that holds sampled regions (never a section).
REGIONS_DIR = "regions"


@dataclass(frozen=True)
class SectionRun:
    """A section's latest finished run, as recorded on disk (nothing loaded yet)."""

    name: str
    contig: str
    start: int
    end: int
    run_dir: Path
    scheme: str
    index_start: int
    index_stop: int
    split: dict[str, Any]


def find_section_runs(
    runs_dir: str | Path, damaged: dict[str, VaeGenomicsError] | None = None
) -> list[SectionRun]:
    """Every section of ``runs_dir`` with a finished ``latest`` run, sorted by contig and start.

    Args:
        runs_dir: The runs directory.
        damaged: Where to collect, by section directory name, the error of each run whose records
            cannot be read (so one damaged run blocks only a region it is part of:
            :func:`select_sections`); None: the first such error is raised.

    Raises:
        RunError: ``runs_dir`` does not exist or holds no finished run (or, without ``damaged``,
            a run's ``config.yaml`` or ``split.json`` is damaged).
    """
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        raise RunError(f"{runs_dir}: no such runs directory; train the sections first.")
    found = []
    for section_dir in sorted(runs_dir.iterdir()):
        if section_dir.name == REGIONS_DIR or not (section_dir / LATEST).exists():
            continue
        try:
            found.append(_section_run(section_dir))
        except VaeGenomicsError as exc:
            if damaged is None:
                raise
            damaged[section_dir.name] = exc
    if not found and not damaged:
        raise RunError(f"{runs_dir}: no section has a finished run (runs/<section>/latest).")
    return sorted(found, key=lambda s: (s.contig, s.start))


def _section_run(section_dir: Path) -> SectionRun:
    """A section's latest run as its ``config.yaml`` and ``split.json`` record it.

    Raises:
        RunError, ConfigError: Either file is damaged (named).
    """
    run_dir = resolve_run_dir(section_dir)
    config = read_yaml(run_dir / CONFIG_FILE)
    try:
        section = config["resolved"]["section"]
        found = SectionRun(
            name=str(section["name"]),
            contig=str(section["contig"]),
            start=int(section["start"]),
            end=int(section["end"]),
            run_dir=run_dir,
            scheme=str(config["data"]["sections"]),
            index_start=int(section["index_start"]),
            index_stop=int(section["index_stop"]),
            split=read_json(run_dir / SPLIT_FILE),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise damaged_file(run_dir / CONFIG_FILE, f"no resolved section ({exc!r})") from None
    check_split_lists(run_dir / SPLIT_FILE, found.split)
    return found


def select_sections(
    runs: Sequence[SectionRun],
    names: Sequence[str] | None = None,
    region: str | None = None,
    damaged: Mapping[str, VaeGenomicsError] | None = None,
) -> tuple[list[SectionRun], tuple[str, int, int] | None]:
    """The sections of a region, in genome order, and the range to crop to (or None).

    Args:
        runs: Every trained section (:func:`find_section_runs`).
        names: Section names (any order), or None.
        region: ``contig:start-end`` (1-based inclusive): the sections overlapping it, or None.
            Neither: every section.
        damaged: Errors of the runs that cannot be read, by section directory
            (:func:`find_section_runs`): raised when the section is named or every section is
            asked for; with a range (where their place is unknown) they are named in a warning.

    Raises:
        RunError: An unknown name, or no section overlaps the range; or a damaged run is part of
            the region.
    """
    by_name = {r.name: r for r in runs}
    damaged = damaged or {}
    if names:
        for name in names:
            if name not in by_name and name in damaged:
                raise damaged[name]
        unknown = [n for n in names if n not in by_name]
        if unknown:
            raise RunError(
                f"no finished run for section(s) {', '.join(unknown)}; trained sections: "
                f"{', '.join(by_name)}."
            )
        chosen = [by_name[n] for n in dict.fromkeys(names)]
        return sorted(chosen, key=lambda s: (s.contig, s.start)), None
    if damaged and not region:  # every section: the damaged ones are part of it
        raise next(iter(damaged.values()))
    for name, exc in damaged.items():
        log.warning("section %s skipped, its run cannot be read: %s", name, exc)
    if region:
        parsed = parse_region(region)
        chosen = [
            r
            for r in runs
            if r.contig == parsed.contig and r.start <= parsed.end and r.end >= parsed.start
        ]
        if not chosen:
            raise RunError(
                f"region {region}: no trained section overlaps it; trained sections: "
                + ", ".join(f"{r.name} ({r.contig}:{r.start}-{r.end})" for r in runs)
            )
        return chosen, (parsed.contig, parsed.start, parsed.end)
    return list(runs), None


def check_sections(sections: Sequence[SectionRun]) -> None:
    """Refuse sections that cannot form one region (module docstring).

    Raises:
        RunError: Naming the sections and what differs.
    """
    if len(sections) < 1:
        raise RunError("a region needs at least one trained section.")
    first = sections[0]
    contigs = sorted({s.contig for s in sections})
    if len(contigs) > 1:
        raise RunError(
            f"sections {', '.join(s.name for s in sections)} lie on {len(contigs)} contigs "
            f"({', '.join(contigs)}); a region is one contig: pass --sections or --region."
        )
    base_ids = set(first.split["train"]) | set(first.split["validation"])
    base_val = set(first.split["validation"])
    for other in sections[1:]:
        where = f"sections {first.name} and {other.name}"
        if other.split.get("seed") != first.split.get("seed"):
            raise RunError(
                f"{where} were trained with different seeds ({first.split.get('seed')} vs "
                f"{other.split.get('seed')}), so their held-out haplotypes differ; retrain with one "
                "seed."
            )
        ids = set(other.split["train"]) | set(other.split["validation"])
        if ids != base_ids:
            only_a, only_b = sorted(base_ids - ids), sorted(ids - base_ids)
            raise RunError(
                f"{where} have different haplotypes ({len(only_a)} only in {first.name}"
                + (f", e.g. {only_a[0]}" if only_a else "")
                + f"; {len(only_b)} only in {other.name}"
                + (f", e.g. {only_b[0]}" if only_b else "")
                + "); train every section on the same samples (data.samples)."
            )
        val = set(other.split["validation"])
        if val != base_val:
            differ = sorted(base_val ^ val)
            raise RunError(
                f"{where} hold out different haplotypes ({len(differ)} differ, e.g. {differ[0]}; "
                f"validation fraction {first.split.get('validation_fraction')} vs "
                f"{other.split.get('validation_fraction')}); retrain them with the same seed and "
                "training.validation_fraction (held-out sets are chosen by haplotype ID since this "
                "version)."
            )
    for left, right in itertools.pairwise(sections):
        if right.start <= left.end:
            raise RunError(
                f"sections {left.name} ({left.start}-{left.end}) and {right.name} "
                f"({right.start}-{right.end}) overlap; their sites would be duplicated."
            )
        if not _touching(left, right):
            raise RunError(
                f"sections {left.name} and {right.name} leave a gap ({left.end + 1}-"
                f"{right.start - 1}) that no trained section covers; a region is consecutive "
                "sections: pass --sections or --region for one stretch. Stretches here: "
                + "; ".join(_stretches(sections))
            )


def _touching(left: SectionRun, right: SectionRun) -> bool:
    """Whether ``right`` starts where ``left`` ends: the next base (BED, bp windows, regions) or
    the next filtered variant of the contig (SNP windows)."""
    if left.scheme == right.scheme == "snp-windows":
        return right.index_start == left.index_stop
    return right.start == left.end + 1


def _stretches(sections: Sequence[SectionRun]) -> list[str]:
    """``contig:start-end`` of each run of touching sections (for error messages)."""
    out: list[list[SectionRun]] = [[sections[0]]]
    for left, right in itertools.pairwise(sections):
        if _touching(left, right):
            out[-1].append(right)
        else:
            out.append([right])
    return [f"{s[0].contig}:{s[0].start}-{s[-1].end} ({len(s)} sections)" for s in out]


def consistent_rows(
    haplotype_ids: np.ndarray, split: dict[str, Any]
) -> tuple[np.ndarray, np.ndarray]:
    """Training and held-out rows of ``haplotype_ids`` from a ``split.json`` (sorted int64)."""
    val = set(split["validation"])
    is_val = np.fromiter((h in val for h in haplotype_ids), dtype=bool, count=len(haplotype_ids))
    return np.flatnonzero(~is_val).astype(np.int64), np.flatnonzero(is_val).astype(np.int64)


@dataclass
class LoadedRegion:
    """Consecutive sections with their models and haplotypes, rows aligned across sections.

    Attributes:
        name: Region name ``<contig>_<start>-<end>`` (file-name safe).
        contig: Contig.
        start: First kept position (1-based).
        end: Last kept position (1-based).
        sections: The sections' finished runs (:class:`vae_genomics.run.load.LoadedRun`), in order.
        columns: Per section, the indices of its kept sites in the section (cropping to a range).
        offsets: Column of the region matrix where each section starts, shape (n_sections + 1,).
        haplotype_ids: Row names, shape (n,), in the first section's order.
        haplotypes: int8 0/1, shape (n, n_sites): every section's kept sites, in genome order.
        positions: 1-based positions of the region's sites, increasing, shape (n_sites,).
        ref: REF alleles, shape (n_sites,).
        alt: ALT alleles, shape (n_sites,).
        variant_ids: ID column, shape (n_sites,).
        train_rows: Training rows (the same in every section), sorted int64.
        val_rows: Held-out rows, sorted int64.
        seed: The sections' common seed.
    """

    name: str
    contig: str
    start: int
    end: int
    sections: list[Any]
    columns: list[np.ndarray]
    offsets: np.ndarray
    haplotype_ids: np.ndarray
    haplotypes: np.ndarray
    positions: np.ndarray
    ref: np.ndarray
    alt: np.ndarray
    variant_ids: np.ndarray
    train_rows: np.ndarray
    val_rows: np.ndarray
    seed: int

    @property
    def section_names(self) -> list[str]:
        """Names of the sections, in genome order."""
        return [run.data.section.name for run in self.sections]

    def section_rows(self, k: int) -> np.ndarray:
        """Rows of section ``k``'s own matrix in region row order, shape (n,)."""
        ids = self.sections[k].data.matrix.haplotype_ids
        where = {h: i for i, h in enumerate(ids)}
        return np.asarray([where[h] for h in self.haplotype_ids], dtype=np.int64)


def load_region(
    runs_dir: str | Path,
    names: Sequence[str] | None = None,
    region: str | None = None,
) -> LoadedRegion:
    """Select, check and load a region's sections (module docstring).

    Args:
        runs_dir: Runs directory (``<runs_dir>/<section>/latest``).
        names: Section names, or None.
        region: ``contig:start-end``, or None (neither: every trained section).

    Raises:
        RunError: The sections disagree (see :func:`check_sections`), or the data changed.
    """
    from vae_genomics.data.sections import section_name
    from vae_genomics.run.load import load_run

    damaged: dict[str, VaeGenomicsError] = {}
    chosen, crop = select_sections(find_section_runs(runs_dir, damaged), names, region, damaged)
    check_sections(chosen)
    loaded = [load_run(s.run_dir) for s in chosen]
    haplotype_ids = np.asarray(loaded[0].data.matrix.haplotype_ids)
    train_rows, val_rows = consistent_rows(haplotype_ids, chosen[0].split)
    blocks, columns, positions, ref, alt, vids = [], [], [], [], [], []
    for run in loaded:
        matrix = run.data.matrix
        keep = np.arange(matrix.n_variants)
        if crop is not None:
            keep = np.flatnonzero((matrix.positions >= crop[1]) & (matrix.positions <= crop[2]))
        where = {h: i for i, h in enumerate(matrix.haplotype_ids)}
        rows = np.asarray([where[h] for h in haplotype_ids], dtype=np.int64)
        blocks.append(np.asarray(matrix.haplotypes)[rows][:, keep])
        columns.append(keep)
        positions.append(np.asarray(matrix.positions)[keep])
        ref.append(np.asarray(matrix.ref)[keep])
        alt.append(np.asarray(matrix.alt)[keep])
        vids.append(np.asarray(matrix.variant_ids)[keep])
    pos = np.concatenate(positions).astype(np.int64)
    if len(pos) == 0:
        raise RunError(f"region {region}: none of the sections' sites lie inside it.")
    if np.any(np.diff(pos) <= 0):
        bad = int(np.flatnonzero(np.diff(pos) <= 0)[0])
        raise RunError(
            f"sites of sections {', '.join(s.name for s in chosen)} are not strictly increasing "
            f"(position {pos[bad]} then {pos[bad + 1]}): sites would be duplicated or out of order."
        )
    contig = chosen[0].contig
    start, end = int(pos[0]), int(pos[-1])
    offsets = np.concatenate([[0], np.cumsum([len(c) for c in columns])])
    log.info(
        "region %s:%d-%d: %d sections, %d sites, %d training / %d held-out haplotypes",
        contig, start, end, len(loaded), len(pos), len(train_rows), len(val_rows),
    )  # fmt: skip
    return LoadedRegion(
        name=section_name(contig, start, end),
        contig=contig,
        start=start,
        end=end,
        sections=loaded,
        columns=columns,
        offsets=offsets,
        haplotype_ids=haplotype_ids,
        haplotypes=_side_by_side(blocks),
        positions=pos,
        ref=np.concatenate(ref),
        alt=np.concatenate(alt),
        variant_ids=np.concatenate(vids),
        train_rows=train_rows,
        val_rows=val_rows,
        seed=int(chosen[0].split["seed"]),
    )


def _side_by_side(blocks: list[np.ndarray]) -> np.ndarray:
    """The sections' int8 blocks (n, n_k) as one (n, sum n_k) int8 matrix, each block freed once
    copied (peak: the matrix plus one block, not two copies of the region)."""
    out = np.empty((len(blocks[0]), sum(b.shape[1] for b in blocks)), dtype=np.int8)
    start = 0
    while blocks:
        block = blocks.pop(0)
        out[:, start : start + block.shape[1]] = block
        start += block.shape[1]
    return out
