"""The chromosome track of the index page: sections along their contig, as inline SVG.

Three rows per contig, each section drawn over its bp span: the headline verdict (colour;
untrained sections hatched grey), the held-out −ELBO per variant (nats per haplotype and variant, so
sections of different sizes compare) and the PCA-space coverage of the generated samples (the
default generator's) beside the ceiling's (0–1). Every shape links to the section's report and
has a tooltip. Plain SVG written here (no plotting library), so the index stays light and crisp at
any zoom.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

#: Verdict colours (the badges' colours); ``None``: trained before the evaluation existed.
VERDICT_COLOURS = {
    "ok": "#2e7d32",
    "mode-seeking": "#e65100",
    "collapsed": "#b71c1c",
    "off-distribution": "#6a1b9a",
    "copies-training-data": "#0d47a1",
    None: "#757575",
}

_WIDTH, _LEFT, _ROW, _GAP = 1100, 150, 34, 10


@dataclass
class TrackSection:
    """One section on the track."""

    name: str
    contig: str
    start: int
    end: int
    trained: bool
    verdict: str | None = None
    neg_elbo_per_variant: float | None = None
    coverage: float | None = None
    ceiling_coverage: float | None = None
    link: str | None = None


def _rect(x: float, y: float, w: float, h: float, fill: str, tip: str, link: str | None,
          extra: str = "") -> str:  # fmt: skip
    shape = (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 1.5):.1f}" height="{h:.1f}" '
        f'fill="{fill}" {extra}><title>{html.escape(tip)}</title></rect>'
    )
    return f'<a href="{html.escape(link)}">{shape}</a>' if link else shape


def chromosome_track(sections: Sequence[TrackSection]) -> str:
    """Inline SVG of every contig's sections (empty string without sections)."""
    if not sections:
        return ""
    contigs: dict[str, list[TrackSection]] = {}
    for s in sections:
        contigs.setdefault(s.contig, []).append(s)
    elbos = [s.neg_elbo_per_variant for s in sections if s.neg_elbo_per_variant is not None]
    top = max(elbos) if elbos else 1.0
    parts, y = [], 8
    span_w = _WIDTH - _LEFT - 10
    for contig, items in contigs.items():
        lo, hi = min(s.start for s in items), max(s.end for s in items)
        scale = span_w / max(hi - lo, 1)
        parts.append(f'<text x="4" y="{y + 12}" font-weight="600">{html.escape(contig)}</text>')
        labels = ("verdict", "−ELBO / variant", "coverage (generated)")
        for row, label in enumerate(labels):
            ry = y + 18 + row * _ROW
            parts.append(f'<text x="4" y="{ry + _ROW / 2 + 4:.0f}" font-size="11">{label}</text>')
            parts.append(f'<line x1="{_LEFT}" x2="{_LEFT + span_w}" y1="{ry + _ROW - 4}" '
                         f'y2="{ry + _ROW - 4}" stroke="#ccc"/>')  # fmt: skip
        for s in items:
            x = _LEFT + (s.start - lo) * scale
            w = (s.end - s.start + 1) * scale
            name = f"{s.name} ({s.start:,}–{s.end:,})"
            if not s.trained:
                parts.append(_rect(x, y + 18, w, _ROW - 6, "url(#untrained)",
                                   f"{name}: not trained", None, 'stroke="#999"'))  # fmt: skip
                continue
            tip = f"{name}: {s.verdict or 'no evaluation'}"
            parts.append(_rect(x, y + 18, w, _ROW - 6, VERDICT_COLOURS.get(s.verdict, "#757575"),
                               tip, s.link))  # fmt: skip
            if s.neg_elbo_per_variant is not None:
                h = (_ROW - 6) * s.neg_elbo_per_variant / top
                ry = y + 18 + _ROW
                parts.append(_rect(x, ry + _ROW - 6 - h, w, h, "#0072B2",
                                   f"{name}: held-out −ELBO {s.neg_elbo_per_variant:.4g} "
                                   "nats per haplotype and variant", s.link))  # fmt: skip
            if s.coverage is not None:
                h = (_ROW - 6) * max(0.0, min(1.0, s.coverage))
                ry = y + 18 + 2 * _ROW
                ceiling = f" (ceiling {s.ceiling_coverage:.2f})" if s.ceiling_coverage else ""
                parts.append(_rect(x, ry + _ROW - 6 - h, w, h, "#E69F00",
                                   f"{name}: mixture-sample coverage {s.coverage:.2f}{ceiling}",
                                   s.link))  # fmt: skip
        axis_y = y + 18 + 3 * _ROW + 4
        parts.append(f'<text x="{_LEFT}" y="{axis_y + 8}" font-size="11">{lo:,} bp</text>')
        parts.append(f'<text x="{_LEFT + span_w}" y="{axis_y + 8}" font-size="11" '
                     f'text-anchor="end">{hi:,} bp</text>')  # fmt: skip
        y = axis_y + 8 + _GAP + 8
    defs = (
        '<defs><pattern id="untrained" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#eee"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#aaa" stroke-width="2"/></pattern></defs>'
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="100%" viewBox="0 0 {_WIDTH} {y}" '
        f'font-family="sans-serif" font-size="12" role="img" aria-label="chromosome track">'
        f"{defs}{''.join(parts)}</svg>"
    )


def boundary_track(
    boundaries: Sequence[int],
    ratio: Sequence[float | None],
    ceiling_r: Sequence[float | None],
    start: int,
    end: int,
    target: float,
) -> str:
    """Inline SVG of the boundary LD ratio at every boundary along the region: a dot per boundary
    at its position (set's boundary LD r ÷ the ceiling's there, 0 to 1.2), red below ``target``,
    linking to its row of the boundary table (``#b-<i>``); empty string without boundaries."""
    if not boundaries:
        return ""
    height, top = 150, 10
    span_w = _WIDTH - _LEFT - 10
    scale = span_w / max(end - start, 1)

    def y_of(value: float) -> float:
        return top + height * (1 - min(max(value, 0.0), 1.2) / 1.2)

    parts = [
        f'<text x="4" y="{top + height / 2:.0f}" font-size="11">LD ratio ÷ ceiling</text>',
        f'<line x1="{_LEFT}" x2="{_LEFT + span_w}" y1="{y_of(target):.1f}" y2="{y_of(target):.1f}" '
        f'stroke="#b71c1c" stroke-dasharray="4 3"><title>target {target}</title></line>',
        f'<line x1="{_LEFT}" x2="{_LEFT + span_w}" y1="{y_of(1):.1f}" y2="{y_of(1):.1f}" '
        'stroke="#999"/>',
        f'<text x="{_LEFT - 4}" y="{y_of(1) + 4:.0f}" font-size="10" text-anchor="end">1</text>',
        f'<text x="{_LEFT - 4}" y="{y_of(target) + 4:.0f}" font-size="10" '
        f'text-anchor="end">{target:g}</text>',
    ]
    for i, (b, r, c) in enumerate(zip(boundaries, ratio, ceiling_r, strict=True)):
        x = _LEFT + (b - start) * scale
        if r is None:
            tip = f"boundary {i + 1} at {b:,} bp: no defined ratio (ceiling r {c})"
            parts.append(f'<a href="#b-{i}"><line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" '
                         f'y2="{top + height}" stroke="#ddd"><title>{html.escape(tip)}</title>'
                         "</line></a>")  # fmt: skip
            continue
        colour = "#2e7d32" if r >= target else "#b71c1c"
        tip = f"boundary {i + 1} at {b:,} bp: {r:.3f} × the ceiling's boundary LD r ({c:.3f})"
        parts.append(f'<a href="#b-{i}"><circle cx="{x:.1f}" cy="{y_of(r):.1f}" r="4" '
                     f'fill="{colour}"><title>{html.escape(tip)}</title></circle></a>')  # fmt: skip
    axis_y = top + height + 14
    parts.append(f'<text x="{_LEFT}" y="{axis_y}" font-size="11">{start:,} bp</text>')
    parts.append(f'<text x="{_LEFT + span_w}" y="{axis_y}" font-size="11" '
                 f'text-anchor="end">{end:,} bp</text>')  # fmt: skip
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="100%" viewBox="0 0 {_WIDTH} {axis_y + 6}" '
        'font-family="sans-serif" font-size="12" role="img" aria-label="boundary LD track">'
        f"{''.join(parts)}</svg>"
    )
