"""Self-contained HTML: a run's report and the index across sections.

The run report embeds every figure as a base64 ``data:`` URI and links to nothing, so the file can be
copied off a cluster and opened anywhere. The index links to each section's report by a relative path
and sorts its table with a few lines of inline JavaScript; it embeds nothing else.
"""

from __future__ import annotations

import base64
import html
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from vae_genomics.report.labels import SEVERITY

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:1250px;margin:2em auto;padding:0 1em;color:#222;
line-height:1.4}
table{border-collapse:collapse;margin:.8em 0;font-size:.92em}
td,th{border:1px solid #ccc;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
img{max-width:100%;border:1px solid #eee}pre{background:#f7f7f7;padding:1em;overflow:auto}
figure{margin:1.5em 0}figcaption{color:#444;font-size:.92em;max-width:70em}
.v{display:inline-block;padding:1px 8px;border-radius:9px;font-weight:600;color:#fff}
.v-ok{background:#2e7d32}.v-mode-seeking{background:#e65100}.v-collapsed{background:#b71c1c}
.v-off-distribution{background:#6a1b9a}.v-copies-training-data{background:#0d47a1}
.v-na{background:#757575}td.trip{background:#ffe0cc;font-weight:600}
.note{color:#555;font-size:.92em;max-width:75em}details{margin:1em 0}
th.sort{cursor:pointer}th.sort:after{content:" \\2195";color:#999}
.box{border:1px solid #bbb;border-left:6px solid #0072B2;background:#f7fbff;padding:.4em 1em;
margin:1em 0}.box.next{border-left-color:#E69F00;background:#fffaf0}
.box li{margin:.25em 0}code{background:#eee;padding:0 3px;border-radius:3px}
.prov{color:#555;font-size:.9em}nav.toc{font-size:.92em}nav.toc a{margin-right:.8em}
"""

SORT_JS = """
document.querySelectorAll('table.sortable th.sort').forEach(function(th){
 th.addEventListener('click',function(){
  var table=th.closest('table'),body=table.tBodies[0],i=th.cellIndex;
  var dir=th.dataset.dir==='asc'?'desc':'asc';th.dataset.dir=dir;
  var rows=Array.from(body.rows);
  rows.sort(function(a,b){
   var x=a.cells[i].dataset.v,y=b.cells[i].dataset.v,nx=parseFloat(x),ny=parseFloat(y);
   var c=(!isNaN(nx)&&!isNaN(ny))?nx-ny:String(x).localeCompare(String(y));
   return dir==='asc'?c:-c;});
  rows.forEach(function(r){body.appendChild(r);});});});
"""


def fmt(value: Any, digits: int = 4) -> str:
    """Short text of a number (``—`` for None or NaN), a list of numbers, or anything else."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return "—" if not math.isfinite(value) else f"{value:.{digits}g}"
    if isinstance(value, list) and value and all(isinstance(v, float) for v in value):
        return ", ".join(f"{v:.3g}" for v in value)
    return str(value)


def esc(value: Any) -> str:
    """HTML-escaped :func:`fmt`."""
    return html.escape(fmt(value))


def badge(verdict: str | None) -> str:
    """A coloured verdict label."""
    name = verdict or "n/a"
    css = name if name in SEVERITY else "na"
    return f'<span class="v v-{css}">{html.escape(name)}</span>'


def embed_png(path: Path) -> str:
    """``data:`` URI of a PNG file."""
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


def key_value_table(rows: Mapping[str, Any]) -> str:
    """Two-column table of labelled values."""
    cells = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{esc(v)}</td></tr>" for k, v in
                    rows.items())  # fmt: skip
    return f"<table>{cells}</table>"


def table(header: Sequence[str], rows: Sequence[Sequence[str]], css: str = "") -> str:
    """A table from already-escaped cell HTML (``<td ...>`` included when a cell starts with it).

    With ``css="sortable"`` the header cells sort the rows on click (:data:`SORT_JS`, by each
    cell's ``data-v``).
    """
    th = '<th class="sort">' if "sortable" in css else "<th>"
    head = "".join(f"{th}{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(c if c.startswith("<td") or c.startswith("<th") else f"<td>{c}</td>"
                         for c in row) + "</tr>"
        for row in rows
    )  # fmt: skip
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def num(value: Any, css: str = "", title: str = "", digits: int = 4) -> str:
    """A right-aligned numeric cell."""
    attrs = f' class="num {css}"' + (f' title="{html.escape(title)}"' if title else "")
    return f"<td{attrs}>{esc(value) if digits == 4 else html.escape(fmt(value, digits))}</td>"


def page(title: str, body: str, script: str = "") -> str:
    """A complete HTML document with the shared style (and an optional inline script)."""
    tail = f"<script>{script}</script>" if script else ""
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}{tail}</body></html>"
    )


def figures_html(figures: Sequence[tuple[Path, str]]) -> str:
    """Figures embedded as data URIs, each with its caption and an anchor (``#fig-<name>``)."""
    return "".join(
        f'<figure id="fig-{html.escape(Path(p).stem)}"><img src="{embed_png(p)}" '
        f'alt="{html.escape(c)}"><figcaption>{html.escape(c)}</figcaption></figure>'
        for p, c in figures
    )


def provenance(header: str, index_link: str | None) -> str:
    """The line under a page's title: version, date, command; a link back to the index."""
    back = f' · <a href="{html.escape(index_link)}">all sections</a>' if index_link else ""
    return f"<p class='prov'>{html.escape(header)}{back}</p>" if header or back else ""


def contents(figures: Sequence[tuple[Path, str]], summary: bool = True) -> str:
    """A run report's table of contents (section anchors, then one per figure)."""
    parts = [("summary", "Summary"), ("next", "What to do next")] if summary else []
    parts += [("verdicts", "Verdicts"), ("model", "Model"), ("numbers", "Numbers per set"),
              ("realism", "Realism and privacy"), ("latent", "Latent dimensions"),
              ("figures", "Figures")]  # fmt: skip
    parts += [(f"fig-{Path(p).stem}", "· " + Path(p).stem.replace("_", " ")) for p, _ in figures]
    parts += [("history", "History"), ("configuration", "Configuration")]
    links = "".join(f'<a href="#{a}">{html.escape(t)}</a>' for a, t in parts)
    return f"<nav class='toc'>Contents: {links}</nav>"


def summary_box(
    metrics: Mapping[str, Any], section: str, max_epochs: int | None, privacy: str | None = None
) -> str:
    """The summary (one sentence per verdict, where β came from) and the "what to do next" box."""
    from vae_genomics.report.advice import beta_origin, verdict_sentences

    items = "".join(f"<li>{badge(v)} {html.escape(t)}</li>" for v, t in verdict_sentences(metrics))
    items += f"<li>{_code(html.escape(beta_origin(metrics, section)))}</li>"
    return (
        f"<h2 id='summary'>Summary</h2><div class='box'><ul>{items}</ul></div>"
        f"<h2 id='next'>What to do next</h2>"
        f"{next_steps_html(metrics, section, max_epochs, privacy)}"
    )


def _code(text: str) -> str:
    """`text` in backticks as <code> (after escaping)."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", text)


def next_steps_html(
    metrics: Mapping[str, Any], section: str, max_epochs: int | None, privacy: str | None = None
) -> str:
    """The "what to do next" box: each finding with the command that addresses it."""
    from vae_genomics.report.advice import next_steps

    rows = "".join(
        f"<li>{html.escape(finding)}:<br><code>{html.escape(command)}</code></li>"
        for finding, command in next_steps(metrics, section, max_epochs, privacy)
    )
    return f"<div class='box next'><ul>{rows}</ul></div>"


def history_table(history: Mapping[str, Sequence[float]]) -> str:
    """Per-epoch numbers in a collapsible table (per-dimension KL columns last)."""
    columns = sorted(history, key=lambda c: "kl_dim_" in c)  # stable: per-dimension KL last
    n = max((len(v) for v in history.values()), default=0)
    rows = [
        [num(epoch + 1, digits=6)] + [num(history[c][epoch] if epoch < len(history[c]) else None)
                                      for c in columns]
        for epoch in range(n)
    ]  # fmt: skip
    return (
        f"<details><summary>{n} epochs × {len(columns)} columns (click to open)</summary>"
        f"{table(['epoch', *columns], rows)}</details>"
    )


def config_block(config: Mapping[str, Any]) -> str:
    """The resolved configuration as YAML."""
    text = yaml.safe_dump(dict(config), sort_keys=False, default_flow_style=False)
    return f"<pre>{html.escape(text)}</pre>"
