"""Self-contained HTML report: figures embedded as base64 PNG, no external references."""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}
th{background:#f3f3f3}img{max-width:100%;border:1px solid #eee}pre{background:#f7f7f7;padding:1em;
overflow:auto}figcaption{color:#555;font-size:.9em}
"""


def _table(rows: dict[str, Any]) -> str:
    cells = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(_fmt(v))}</td></tr>"
        for k, v in rows.items()
    )
    return f"<table>{cells}</table>"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list) and value and isinstance(value[0], float):
        return ", ".join(f"{v:.3g}" for v in value)
    return str(value)


def embed_png(path: Path) -> str:
    """``data:`` URI of a PNG file."""
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


def render_report(
    title: str,
    summary: dict[str, Any],
    figures: list[tuple[Path, str]],
    config: dict[str, Any],
) -> str:
    """The HTML page of one run.

    Args:
        title: Page title (section and run name).
        summary: Numbers shown in the summary table.
        figures: ``(png_path, caption)`` pairs, embedded in order.
        config: The resolved configuration, shown at the end.

    Returns:
        A complete HTML document.
    """
    figs = "".join(
        f'<figure><img src="{embed_png(p)}" alt="{html.escape(c)}">'
        f"<figcaption>{html.escape(c)}</figcaption></figure>"
        for p, c in figures
    )
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>"
        f"<h2>Summary</h2>{_table(summary)}<h2>Figures</h2>{figs}"
        f"<h2>Configuration</h2><pre>{html.escape(json.dumps(config, indent=2))}</pre>"
        "</body></html>"
    )
