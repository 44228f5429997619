"""The index's rows: each section's latest finished run under a runs directory, read from its
``metrics.json`` and ``config.yaml`` (:class:`IndexRow`), and a row for every configured section
without a run (:func:`add_untrained`). :mod:`~vae_genomics.report.index` orders and draws them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vae_genomics.report.labels import GENERATED, SEVERITY
from vae_genomics.run.directory import CONFIG_FILE, LATEST, METRICS_FILE, REPORT_DIR

log = logging.getLogger(__name__)


@dataclass
class IndexRow:
    """One section's latest run as the index shows it."""

    section: str
    run: str
    link: str
    metrics: dict[str, Any]
    max_epochs: int | None = None
    span: tuple[str, int, int] | None = None  # contig, start, end (untrained sections)
    privacy: str | None = None  # the run's generation.privacy

    @property
    def trained(self) -> bool:
        """Whether the section has a finished run."""
        return bool(self.metrics)

    @property
    def evaluation(self) -> dict[str, Any] | None:
        """The run's evaluation summary, or None for runs written before it existed."""
        return self.metrics.get("evaluation")

    def coverage(self, name: str) -> float | None:
        """PCA-space coverage of set ``name``."""
        ev = self.evaluation
        try:
            return ev["modeseek"]["sets"][name]["prdc_pca"]["coverage"]  # type: ignore[index]
        except (KeyError, TypeError):
            return None

    def generated_coverage(self) -> float | None:
        """PCA-space coverage of the generated set (``gmm_samples`` in runs of older versions)."""
        known = [self.coverage(n) for n in GENERATED]
        return next((c for c in known if c is not None), None)

    @property
    def headline(self) -> dict[str, Any] | None:
        """``{"set", "verdict"}`` of the section's headline verdict (reconstructions and the
        default generator; the worst set for runs of older versions), or None."""
        ev = self.evaluation
        if not ev:
            return None
        head = ev.get("headline")
        if head and head.get("verdict"):
            return head
        return ev.get("worst")

    @property
    def severity(self) -> int:
        """Index of the headline verdict in :data:`SEVERITY`; -1 without an evaluation, -2 untrained."""
        if not self.trained:
            return -2
        head = self.headline
        if not head or head.get("verdict") not in SEVERITY:
            return -1
        return SEVERITY.index(head["verdict"])


def _latest_run(section_dir: Path) -> Path | None:
    link = section_dir / LATEST
    if link.exists():
        return link.resolve()
    runs = [d for d in section_dir.iterdir() if d.is_dir() and not d.name.startswith(".")
            and (d / METRICS_FILE).is_file()]  # fmt: skip
    return max(runs, key=lambda d: (d / METRICS_FILE).stat().st_mtime) if runs else None


def collect_runs(runs_dir: str | Path) -> list[IndexRow]:
    """The latest finished run of every section under ``runs_dir`` that has a ``metrics.json``."""
    runs_dir = Path(runs_dir)
    rows = []
    for section_dir in sorted(p for p in runs_dir.iterdir() if p.is_dir()):
        if section_dir.name.startswith("."):
            continue
        run = _latest_run(section_dir)
        if run is None or not (run / METRICS_FILE).is_file():
            continue
        try:
            metrics = json.loads((run / METRICS_FILE).read_text())
        except json.JSONDecodeError:
            log.warning("%s: not valid JSON; section skipped", run / METRICS_FILE)
            continue
        link = f"{section_dir.name}/{run.name}/{REPORT_DIR}/index.html"
        epochs, privacy = _run_settings(run)
        rows.append(IndexRow(section_dir.name, run.name, link, metrics, epochs, privacy=privacy))
    return rows


def _run_settings(run: Path) -> tuple[int | None, str]:
    """``training.epochs`` (for the "not converged" advice; None when unreadable) and
    ``generation.privacy`` (for the budget's advice; the default when absent) of a run's
    ``config.yaml``."""
    import yaml

    from vae_genomics.config.budget import DEFAULT_LEVEL

    try:
        raw = yaml.safe_load((run / CONFIG_FILE).read_text())
    except (OSError, yaml.YAMLError):
        return None, DEFAULT_LEVEL
    raw = raw if isinstance(raw, dict) else {}
    try:
        epochs = int(raw["training"]["epochs"])
    except (KeyError, TypeError, ValueError):
        epochs = None
    privacy = (raw.get("generation") or {}).get("privacy", DEFAULT_LEVEL)
    return epochs, str(privacy)


def add_untrained(rows: list[IndexRow], configured: Sequence[Mapping[str, Any]]) -> list[IndexRow]:
    """``rows`` plus a "not trained" row for every configured section without a run.

    Args:
        rows: The sections with runs.
        configured: Every configured section (``name``, ``contig``, ``start``, ``end``), as
            :func:`vae_genomics.data.section_table` lists them.
    """
    have = {r.section for r in rows}
    extra = [
        IndexRow(
            str(c["name"]), "", "", {}, span=(str(c["contig"]), int(c["start"]), int(c["end"]))
        )
        for c in configured
        if str(c["name"]) not in have
    ]
    return rows + extra
