"""Choose a region's sections: the finished runs of consecutive sections, checked to agree.

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
what differs. :mod:`vae_genomics.run.region` loads the chosen sections' data and models.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
        contigs = sorted({r.contig for r in runs})
        if not chosen and parsed.contig not in contigs:
            raise RunError(
                f"region {region}: no trained section is on a contig named {parsed.contig!r} "
                f"(the trained sections' contigs: {', '.join(contigs)}); a region is "
                "contig:start-end, 1-based inclusive (e.g. 22:16000001-17000000), or a contig's name"
            )
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
