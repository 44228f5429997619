"""One page across sections: a sortable table of every section's latest run, worst first.

Its rows (:mod:`~vae_genomics.report.index_rows`) come from ``metrics.json`` of
``<runs_dir>/<section>/latest`` (or of the newest finished run when there is no ``latest`` link),
each linked to that run's ``report/index.html`` by a relative path.
Rows are ordered worst first: by the headline verdict (the worse of the reconstructions' and the
default generator's, :func:`~vae_genomics.evaluation.verdict.headline`; order
:data:`~vae_genomics.report.labels.SEVERITY`, then runs without an evaluation), then by the lowest
PCA-space coverage of its generated and reconstructed sets; configured sections without a run come
last, marked "not trained". Above the table: a header (version, date, command), the "what to do
next" commands of every section with a problem (:mod:`~vae_genomics.report.advice`) and the
chromosome track (:mod:`~vae_genomics.report.track`); below it, the sampled regions of
``<runs_dir>/regions/`` (:mod:`~vae_genomics.report.regions`).
"""

from __future__ import annotations

import html
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from vae_genomics.common.io import atomic_write_text
from vae_genomics.report.advice import next_steps
from vae_genomics.report.html import SORT_JS, badge, num, page, provenance, table
from vae_genomics.report.index_rows import IndexRow, add_untrained, collect_runs
from vae_genomics.report.labels import GENERATED, SET_SHORT, SEVERITY
from vae_genomics.report.track import TrackSection, chromosome_track

log = logging.getLogger(__name__)

INDEX_FILE = "index.html"


def section_tracks(
    runs_dir: str | Path, sections: Sequence[str], link_prefix: str = ""
) -> list[TrackSection]:
    """Chromosome-track entries of the named sections' latest runs, in the order given (sections
    without a finished run left out); ``link_prefix`` makes their report links relative to the
    page that shows them."""
    rows = {row.section: row for row in collect_runs(runs_dir)}
    out = []
    for name in sections:
        if name in rows:
            row = rows[name]
            row.link = link_prefix + row.link
            out.append(_track(row))
    return out


def _sort_key(row: IndexRow, reconstruction: str) -> tuple[float, float]:
    if not row.trained:
        return (3.0, 0.0)
    covs = [row.coverage(n) for n in (reconstruction, "prior_samples", *GENERATED)]
    known = [c for c in covs if c is not None]
    return (-row.severity, min(known) if known else 2.0)


def render_index(
    rows: list[IndexRow], title: str, reconstruction: str, header: str = "", regions: str = ""
) -> str:
    """The index page (rows in the order given).

    Args:
        rows: The sections (with or without runs).
        title: Page title.
        reconstruction: Reconstruction set shown in the coverage column
            (``reconstruction_probabilities``, ``..._samples`` or ``..._threshold``).
        header: Provenance line under the title (version, date, command).
        regions: HTML of the sampled regions' table (:func:`vae_genomics.report.regions.regions_html`).
    """
    columns = ["section", "run", "variants", "β", "held-out −ELBO", "active units",
               f"coverage: {SET_SHORT[reconstruction]}", "coverage: prior samples",
               "coverage: generated samples", "verdict (headline)", "verdicts per set",
               "next step"]  # fmt: skip
    body_rows = [_row(row, reconstruction) for row in rows]
    trained = [r for r in rows if r.trained]
    todo = []
    for row in trained:
        steps = next_steps(row.metrics, row.section, row.max_epochs, row.privacy)
        if not steps[0][0].startswith("nothing to fix"):
            todo += [(row, finding, command) for finding, command in steps]
    advice = "".join(
        f'<li><a href="#s-{html.escape(r.section)}">{html.escape(r.section)}</a>: '
        f"{html.escape(f)}:<br><code>{html.escape(c)}</code></li>"
        for r, f, c in todo
    )
    untrained = len(rows) - len(trained)
    if untrained:
        advice += (
            f"<li>{untrained} configured section(s) not trained yet: <code>make train-all</code> "
            "(or <code>make train SECTION=…</code> for one)</li>"
        )
    advice = advice or "<li>nothing to fix: every trained section's sets are ok.</li>"
    body = (
        provenance(header, None) + "<nav class='toc'>Contents: <a href='#next'>What to do next</a>"
        "<a href='#track'>Chromosome track</a><a href='#sections'>Sections</a>"
        + ("<a href='#regions'>Regions</a>" if regions else "")
        + "</nav>"
        f"<h2 id='next'>What to do next</h2><div class='box next'><ul>{advice}</ul></div>"
        f"<h2 id='track'>Chromosome track</h2>{chromosome_track([_track(r) for r in rows])}"
        "<p class='note'>Each section over its bp span: its headline verdict (hatched: "
        "not trained), the held-out −ELBO per variant (nats per haplotype and variant, so sections "
        "of different sizes compare; bars scaled to the largest) and the PCA-space coverage of "
        "its generated samples (0–1). Hover for numbers, click for the report.</p>"
        f"<h2 id='sections'>Sections</h2>{verdict_filter(rows)}"
        f"<p class='note'>{len(rows)} sections ({len(trained)} trained), latest run of each, "
        "worst first (collapsed, mode-seeking, off-distribution, copies-training-data, ok; ties "
        "by the lowest coverage; "
        "untrained last). Click a column header to sort. Coverage: fraction of held-out real "
        "haplotypes with a point of the set within their k-NN radius in PCA space (Naeem et al. "
        "2020); the headline verdict is the worse of the reconstructions' and the generated "
        "samples' (the default generator, what <code>sample</code> writes); prior samples are "
        "advisory (listed per set) — open a section's report for the numbers that tripped it.</p>"
        f"{table(columns, body_rows, css='sortable')}{regions}"
    )
    return page(title, body, script=SORT_JS + FILTER_JS)


#: Shows only the table rows whose verdict cell's ``data-verdict`` is the filter's value (all: empty).
FILTER_JS = (
    "document.getElementById('vfilter')?.addEventListener('change',e=>{const v=e.target.value;"
    "document.querySelectorAll('table.sortable tbody tr').forEach(tr=>{const c=tr.querySelector("
    "'td[data-verdict]');tr.style.display=(!v||(c&&c.dataset.verdict===v))?'':'none';});});"
)


def verdict_counts(rows: Sequence[IndexRow]) -> dict[str, int]:
    """Sections per headline verdict (worst first), then ``no evaluation`` and ``not trained``."""
    names = {**{i: v for i, v in enumerate(SEVERITY)}, -1: "no evaluation", -2: "not trained"}
    counts: dict[str, int] = {}
    for key in [*range(len(SEVERITY) - 1, -1, -1), -1, -2]:
        count = sum(1 for row in rows if row.severity == key)
        if count:
            counts[names[key]] = count
    return counts


def verdict_filter(rows: Sequence[IndexRow]) -> str:
    """The counts of sections by headline verdict and a filter of the table by verdict."""
    names = {**{v: i for i, v in enumerate(SEVERITY)}, "no evaluation": -1, "not trained": -2}
    counts = verdict_counts(rows)
    options = "".join(
        f"<option value='{names[name]}'>{html.escape(name)} ({count})</option>"
        for name, count in counts.items()
    )
    summary = ", ".join(
        f"{badge(name) if name in SEVERITY else html.escape(name)} {count}"
        for name, count in counts.items()
    )
    return (
        f"<p class='counts'>Sections by headline verdict: {summary}. "
        f"<label>Show <select id='vfilter'><option value=''>all ({len(rows)})</option>{options}"
        "</select></label></p>"
    )


def _row(row: IndexRow, reconstruction: str) -> list[str]:
    """The table cells of one section."""
    m, ev = row.metrics, row.evaluation
    anchor = f' id="s-{html.escape(row.section)}"'
    if not row.trained:
        return [
            f'<td data-v="{html.escape(row.section)}"{anchor}>{html.escape(row.section)}</td>',
            '<td data-v="">—</td>', *(_cell(None) for _ in range(7)),
            f'<td data-v="-2" data-verdict="-2">{badge("not trained")}</td>', "<td>—</td>",
            f"<td><code>make train SECTION={html.escape(row.section)}</code></td>",
        ]  # fmt: skip
    held = m.get("heldout", {})
    worst = row.headline
    cell = f'<td data-v="{row.severity}" data-verdict="{row.severity}">'
    verdict_cell = (
        f"{cell}{badge(worst['verdict'])} "
        f"{html.escape(SET_SHORT.get(worst['set'], worst['set']))}</td>"
        if worst
        else f"{cell}{badge(None)} run <code>vae-genomics report</code></td>"
    )
    per_set = "; ".join(
        f"{SET_SHORT.get(n, n)}: {v}" for n, v in (ev.get("verdicts", {}) if ev else {}).items()
    )
    active = m.get("active_units")
    command = next_steps(m, row.section, row.max_epochs, row.privacy)[0][1]
    return [
        f'<td data-v="{html.escape(row.section)}"{anchor}><a href="{html.escape(row.link)}">'
        f"{html.escape(row.section)}</a></td>",
        f'<td data-v="{html.escape(row.run)}">{html.escape(row.run)}</td>',
        _cell(m.get("section", {}).get("n_variants")),
        _cell(held.get("kl_weight")),
        _cell(held.get("neg_elbo")),
        f'<td class="num" data-v="{active if active is not None else ""}">'
        f"{active if active is not None else '—'} of {m.get('latent_dim', '—')}</td>",
        _cell(row.coverage(reconstruction), 3),
        _cell(row.coverage("prior_samples"), 3),
        _cell(row.generated_coverage(), 3),
        verdict_cell,
        f"<td>{html.escape(per_set) or '—'}</td>",
        f"<td><code>{html.escape(command)}</code></td>",
    ]  # fmt: skip


def _track(row: IndexRow) -> TrackSection:
    section = row.metrics.get("section") or {}
    contig, start, end = row.span or (
        str(section.get("contig", "?")), int(section.get("start", 0)), int(section.get("end", 0))
    )  # fmt: skip
    if not row.trained:
        return TrackSection(row.section, contig, start, end, trained=False)
    ev = row.evaluation or {}
    held = row.metrics.get("heldout") or {}
    n = section.get("n_variants")
    elbo = held.get("neg_elbo")
    try:
        ceiling = ev["modeseek"]["ceiling"]["prdc_pca"]["coverage"]
    except (KeyError, TypeError):
        ceiling = None
    return TrackSection(
        row.section, contig, start, end, trained=True,
        verdict=(row.headline or {}).get("verdict"),
        neg_elbo_per_variant=elbo / n if elbo is not None and n else None,
        coverage=row.generated_coverage(), ceiling_coverage=ceiling, link=row.link,
    )  # fmt: skip


def _cell(value: Any, digits: int = 4) -> str:
    cell = num(value, digits=digits)
    v = "" if value is None else str(value)
    return cell.replace("<td", f'<td data-v="{html.escape(v)}"', 1)


def _refuse_a_run_or_section(path: Path) -> None:
    """Refuse a run's or a section's directory given as the runs directory (its page would land
    inside the run or section, listing nothing).

    Raises:
        RunError: ``path`` holds a run's ``config.yaml`` or a section's ``latest`` link.
    """
    from vae_genomics.common.errors import RunError
    from vae_genomics.run.directory import CONFIG_FILE, LATEST

    kind = "a run's" if (path / CONFIG_FILE).is_file() else None
    kind = kind or ("a section's" if (path / LATEST).exists() else None)
    if kind is not None:
        parent = path.parent if kind == "a section's" else path.parent.parent
        raise RunError(
            f"{path}: {kind} directory, not a runs directory: give the directory that holds the "
            f"sections' directories (here {parent})."
        )


def write_index(
    runs_dir: str | Path,
    reconstruction: str = "probabilities",
    configured: Sequence[Mapping[str, Any]] = (),
    command: str = "",
) -> Path:
    """Write ``<runs_dir>/index.html`` across all sections (see the module docstring).

    The page is derived from the runs, so an existing one is replaced (atomically: a reader sees
    the old page or the new one). A symbolic link at its place is refused, checked at the rename:
    it is neither written through (out of the runs directory) nor replaced.

    Args:
        runs_dir: The runs directory (``runs_dir`` of the config).
        reconstruction: Which reconstruction set the coverage column shows: ``probabilities``,
            ``samples`` or ``threshold`` (``report.reconstruction``).
        configured: Every configured section (``name``, ``contig``, ``start``, ``end``); those
            without a run are listed as not trained.
        command: The command line, for the header.

    Returns:
        Path of the page.

    Raises:
        RunError: ``runs_dir`` is not a directory, or ``index.html`` is a symbolic link.
    """
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        from vae_genomics.common.errors import RunError

        raise RunError(f"{runs_dir}: no such runs directory. Train a section first (make train).")
    name = f"reconstruction_{reconstruction}"
    runs = collect_runs(runs_dir)
    if not runs:
        _refuse_a_run_or_section(runs_dir)
        log.warning("%s: no finished runs with metrics.json found", runs_dir)
    rows = sorted(add_untrained(runs, configured), key=lambda r: _sort_key(r, name))
    from datetime import UTC, datetime

    from vae_genomics import __version__

    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    header = f"vae-genomics {__version__} · {stamp}" + (f" · {command}" if command else "")
    out = runs_dir / INDEX_FILE
    title = f"vae-genomics · {runs_dir.name or runs_dir}"
    from vae_genomics.report.regions import collect_regions, regions_html

    regions = regions_html(collect_regions(runs_dir))
    # a derived page: replaced at each run, atomically, but never through or over a link
    atomic_write_text(out, render_index(rows, title, name, header, regions), refuse_link=True)
    return out
