"""A request by population (``--populations YRI:1000,CEU:500``): parsed, and checked against a
run's labels.

The names are populations or superpopulations of the run's populations table (the labels its
training haplotypes carry); the counts are haplotypes (individuals with ``--individuals``). The
check reads only the run's stored labels and split (:func:`stored_labels`), so the command line
refuses a request before TensorFlow starts (:func:`check_request_early`); the commands check it
again on the loaded run (:func:`resolve_request`).
"""

from __future__ import annotations

import logging
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from vae_genomics.common.errors import DataError

if TYPE_CHECKING:
    from vae_genomics.run.load import LoadedRun

log = logging.getLogger(__name__)

#: Fewest training haplotypes a group may have: below it, its code source has too few templates.
MIN_TEMPLATES = 10
#: Below this many training haplotypes a group's request is warned about (near-copies).
FEW_TEMPLATES = 50

_ITEM = re.compile(r"^\s*([^:,\s]+)\s*:\s*([^:,\s]+)\s*$")


def parse_counts(text: str | Mapping[str, int], unit: str = "haplotypes") -> dict[str, int]:
    """``{"YRI": 1000, "CEU": 500}`` of ``"YRI:1000,CEU:500"`` (or of such a mapping), in order.

    Raises:
        DataError: Not ``NAME:COUNT`` items separated by commas, a count that is not a positive
            whole number, or a name given twice.
    """
    items = list(text.items()) if isinstance(text, Mapping) else None
    if items is None:
        items = []
        for part in str(text).split(","):
            match = _ITEM.match(part)
            if not match:
                raise DataError(
                    f"--populations {text!r}: expected NAME:COUNT items separated by commas "
                    f"(e.g. YRI:1000,CEU:500), got {part.strip()!r}"
                )
            items.append((match.group(1), match.group(2)))
    counts: dict[str, int] = {}
    for name, value in items:
        number = _whole(value)
        if number is None or number < 1:
            raise DataError(
                f"--populations: the count of {name} ({value!r}) is not a positive whole number of "
                f"{unit}"
            )
        if str(name) in counts:
            raise DataError(f"--populations: {name} is named twice; give each group once")
        counts[str(name)] = number
    if not counts:
        raise DataError("--populations: no group given (e.g. --populations YRI:1000,CEU:500)")
    return counts


def _whole(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, np.integer)):
        return int(value)
    text = str(value).strip()
    return int(text) if text.isdigit() else None


@dataclass
class RunLabels:
    """What a request by population is checked against: a run's labels and training rows.

    Attributes:
        run_dir: The run directory (named in errors).
        populations: Population per haplotype row, or None (trained without a populations table).
        superpopulations: Superpopulation per haplotype row, or None.
        train_rows: Rows trained on.
    """

    run_dir: Path
    populations: np.ndarray | None
    superpopulations: np.ndarray | None
    train_rows: np.ndarray

    @classmethod
    def of(cls, run: LoadedRun | RunLabels) -> RunLabels:
        """The labels of a loaded run (a :class:`RunLabels` as it is)."""
        if isinstance(run, RunLabels):
            return run
        return cls(run.run_dir, run.data.populations, run.superpopulations, run.train_rows)


def stored_labels(run_dir: str | Path) -> RunLabels | None:
    """A run's labels and training rows from its stored data and split, without TensorFlow or its
    model: what lets the command line refuse an unknown population at once. None when they cannot
    be read this way (a run older than its ``haplotypes.npz``, or a damaged file: loading the run
    says what is wrong)."""
    from vae_genomics.common.errors import VaeGenomicsError
    from vae_genomics.run.directory import SPLIT_FILE, read_json, resolve_run_dir
    from vae_genomics.run.split import split_rows
    from vae_genomics.run.stored import read_run_data

    try:
        run_dir = resolve_run_dir(run_dir).resolve()
        stored = read_run_data(run_dir)
        if stored is None:
            return None
        split = read_json(run_dir / SPLIT_FILE)
        train, _ = split_rows(run_dir / SPLIT_FILE, split, stored.matrix.haplotype_ids)
    except (VaeGenomicsError, OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    return RunLabels(run_dir, stored.populations, stored.superpopulations, train)


def population_groups(
    run: LoadedRun | RunLabels, option: str = "--populations"
) -> dict[str, np.ndarray]:
    """Group name → rows of the training set (``run.train_rows``) it labels: every population,
    then every superpopulation whose name is not also a population's; unlabelled rows in none.
    ``option`` is the option named in the error.

    Raises:
        DataError: The run has no population labels.
    """
    labels = RunLabels.of(run)
    known = labels.populations is not None and bool(set(labels.populations) - {"unknown"})
    if not known:
        raise DataError(
            f"{labels.run_dir}: this run has no populations (data.populations was not set when it "
            f"was trained), so {option} has nothing to choose from; train with "
            "data.populations"
        )
    groups: dict[str, np.ndarray] = {}
    for level in (labels.populations, labels.superpopulations):
        if level is None:
            continue
        train_labels = np.asarray(level, dtype=object)[labels.train_rows].astype(str)
        for name in sorted(set(train_labels) - {"unknown"}):
            groups.setdefault(name, np.flatnonzero(train_labels == name))
    return groups


def _known(run: LoadedRun | RunLabels, groups: Mapping[str, np.ndarray]) -> str:
    pops = set(np.asarray(RunLabels.of(run).populations, dtype=str))
    listed = [f"{g} ({len(rows)})" for g, rows in groups.items() if g in pops]
    text = "populations (training haplotypes): " + ", ".join(listed)
    supers = [f"{g} ({len(rows)})" for g, rows in groups.items() if g not in pops]
    return text + ("; superpopulations: " + ", ".join(supers) if supers else "")


def resolve_request(
    run: LoadedRun | RunLabels,
    populations: str | Mapping[str, int],
    n: int | None = None,
    individuals: bool = False,
    warn: bool = True,
    option: str = "--populations",
) -> tuple[dict[str, int], dict[str, np.ndarray]]:
    """Check a request against the run: ``(haplotypes per group, training rows per group)``.

    Args:
        run: The loaded run (or its :func:`stored_labels`).
        populations: ``"YRI:1000,CEU:500"`` or a mapping name → count.
        n: The total number of haplotypes, or ``None`` (the sum).
        individuals: Counts are individuals (2 haplotypes each), not haplotypes.
        warn: Log a warning for a group with few training haplotypes.
        option: The option named in errors (``--admixed`` for its sources).

    Raises:
        DataError: An unknown name (the message lists the known ones with their training
            haplotypes), a count that is not a positive even number of haplotypes, a group with
            fewer than :data:`MIN_TEMPLATES` training haplotypes, or ``n`` not the sum.
    """
    unit = "individuals" if individuals else "haplotypes"
    counts = parse_counts(populations, unit)
    groups = population_groups(run, option)
    for name, count in counts.items():
        if name not in groups:
            raise DataError(f"{option}: unknown name {name!r}; {_known(run, groups)}")
        if not individuals and count % 2:
            raise DataError(
                f"--populations {name}:{count}: not an even number of haplotypes (haplotypes 2i "
                f"and 2i+1 form synthetic individual i); ask for {count + 1}, or count individuals "
                "with --individuals"
            )
    haplotypes = {name: 2 * c if individuals else c for name, c in counts.items()}
    for name in haplotypes:
        templates = len(groups[name])
        if templates < MIN_TEMPLATES:
            raise DataError(
                f"{option}: {name} has {templates} training haplotypes, fewer than "
                f"{MIN_TEMPLATES}: too few to draw from (its synthetic haplotypes would be copies "
                "of them); choose a larger group, e.g. its superpopulation"
            )
        if templates < FEW_TEMPLATES and warn:
            log.warning(
                "%s has only %d training haplotypes (< %d): few templates means near-copies of "
                "them; check the privacy numbers (vae-genomics evaluate --synthetic)",
                name, templates, FEW_TEMPLATES,
            )  # fmt: skip
    total = sum(haplotypes.values())
    if n is not None and n != total:
        raise DataError(
            f"--n {n} is not the number of haplotypes --populations asks for ({total}); give the "
            "same number, or leave --n out"
        )
    return haplotypes, groups


def check_request_early(
    run_dir: str | Path,
    populations: str | Mapping[str, int],
    n: int | None = None,
    individuals: bool = False,
    option: str = "--populations",
) -> None:
    """:func:`resolve_request` on the run's stored labels (:func:`stored_labels`), before
    TensorFlow starts: an unknown name, an odd count or too small a group is refused at once.
    Nothing is checked when the labels cannot be read this way (the full check follows)."""
    labels = stored_labels(run_dir)
    if labels is not None:
        resolve_request(labels, populations, n, individuals, warn=False, option=option)


def check_region_request_early(
    runs_dir: str | Path,
    names: list[str] | None,
    region: str | None,
    populations: str | Mapping[str, int],
    n: int | None = None,
    individuals: bool = False,
    option: str = "--populations",
) -> None:
    """:func:`check_request_early` for a region: the request checked against the labels of its
    first section, the section the region commands resolve it on."""
    from vae_genomics.run.region_sections import find_section_runs, select_sections

    damaged: dict = {}
    chosen, _ = select_sections(find_section_runs(runs_dir, damaged), names, region, damaged)
    if chosen:
        check_request_early(chosen[0].run_dir, populations, n, individuals, option)
