"""One page across sections: a sortable table of every section's latest run, worst first.

Reads ``metrics.json`` of ``<runs_dir>/<section>/latest`` (or of the newest finished run when there
is no ``latest`` link) and links each row to that run's ``report/index.html`` by a relative path.
Rows are ordered worst first: by the worst verdict over the run's sets (collapsed, mode-seeking, ok,
then runs without an evaluation), then by the lowest PCA-space coverage of its generated and
reconstructed sets.
"""

from __future__ import annotations

import html
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vae_genomics.io import atomic_write_text
from vae_genomics.report.html import SORT_JS, badge, num, page, table
from vae_genomics.report.labels import SET_SHORT, SEVERITY
from vae_genomics.runs import LATEST, METRICS_FILE, REPORT_DIR

log = logging.getLogger(__name__)

INDEX_FILE = "index.html"


@dataclass
class IndexRow:
    """One section's latest run as the index shows it."""

    section: str
    run: str
    link: str
    metrics: dict[str, Any]

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

    @property
    def severity(self) -> int:
        """Index of the worst verdict in :data:`SEVERITY`; -1 without an evaluation."""
        ev = self.evaluation
        if not ev or "worst" not in ev:
            return -1
        return SEVERITY.index(ev["worst"]["verdict"])


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
        rows.append(IndexRow(section_dir.name, run.name, link, metrics))
    return rows


def _sort_key(row: IndexRow, reconstruction: str) -> tuple[float, float]:
    covs = [row.coverage(n) for n in (reconstruction, "prior_samples", "gmm_samples")]
    known = [c for c in covs if c is not None]
    return (-row.severity, min(known) if known else 2.0)


def render_index(rows: list[IndexRow], title: str, reconstruction: str) -> str:
    """The index page (rows in the order given).

    Args:
        rows: The runs.
        title: Page title.
        reconstruction: Reconstruction set shown in the coverage column
            (``reconstruction_probabilities``, ``..._samples`` or ``..._threshold``).
    """
    header = ["section", "run", "variants", "β", "held-out −ELBO", "active units",
              f"coverage: {SET_SHORT[reconstruction]}", "coverage: prior samples",
              "coverage: mixture samples", "verdict (worst set)", "verdicts per set"]  # fmt: skip
    body_rows = []
    for row in rows:
        m, ev = row.metrics, row.evaluation
        held = m.get("heldout", {})
        worst = ev.get("worst") if ev else None
        verdict_cell = (
            f'<td data-v="{row.severity}">{badge(worst["verdict"])} '
            f"{html.escape(SET_SHORT.get(worst['set'], worst['set']))}</td>"
            if worst
            else f'<td data-v="-1">{badge(None)} run <code>vae-genomics report</code></td>'
        )
        per_set = "; ".join(
            f"{SET_SHORT.get(n, n)}: {v}" for n, v in (ev.get("verdicts", {}) if ev else {}).items()
        )
        active = m.get("active_units")
        body_rows.append([
            f'<td data-v="{html.escape(row.section)}"><a href="{html.escape(row.link)}">'
            f"{html.escape(row.section)}</a></td>",
            f'<td data-v="{html.escape(row.run)}">{html.escape(row.run)}</td>',
            _cell(m.get("section", {}).get("n_variants")),
            _cell(held.get("kl_weight")),
            _cell(held.get("neg_elbo")),
            f'<td class="num" data-v="{active if active is not None else ""}">'
            f"{active if active is not None else '—'} of {m.get('latent_dim', '—')}</td>",
            _cell(row.coverage(reconstruction), 3),
            _cell(row.coverage("prior_samples"), 3),
            _cell(row.coverage("gmm_samples"), 3),
            verdict_cell,
            f"<td>{html.escape(per_set) or '—'}</td>",
        ])  # fmt: skip
    body = (
        f"<p class='note'>{len(rows)} sections, latest run of each, worst first (collapsed, then "
        "mode-seeking, then ok; ties by the lowest coverage). Click a column header to sort. "
        "Coverage: fraction of held-out real haplotypes with a point of the set within their k-NN "
        "radius in PCA space (Naeem et al. 2020); the verdict is the worst over the sets "
        "(reconstructions, prior and mixture samples) — open a section's report for the numbers "
        "that tripped it.</p>"
        f"{table(header, body_rows, css='sortable')}"
    )
    return page(title, body, script=SORT_JS)


def _cell(value: Any, digits: int = 4) -> str:
    cell = num(value, digits=digits)
    v = "" if value is None else str(value)
    return cell.replace("<td", f'<td data-v="{html.escape(v)}"', 1)


def write_index(runs_dir: str | Path, reconstruction: str = "probabilities") -> Path:
    """Write ``<runs_dir>/index.html`` across all sections (see the module docstring).

    Args:
        runs_dir: The runs directory (``runs_dir`` of the config).
        reconstruction: Which reconstruction set the coverage column shows: ``probabilities``,
            ``samples`` or ``threshold`` (``report.reconstruction``).

    Returns:
        Path of the page.
    """
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        from vae_genomics.errors import RunError

        raise RunError(f"{runs_dir}: no such runs directory. Train a section first (make train).")
    name = f"reconstruction_{reconstruction}"
    rows = sorted(collect_runs(runs_dir), key=lambda r: _sort_key(r, name))
    if not rows:
        log.warning("%s: no finished runs with metrics.json found", runs_dir)
    out = runs_dir / INDEX_FILE
    atomic_write_text(out, render_index(rows, f"vae-genomics · {runs_dir.name or runs_dir}", name))
    return out
