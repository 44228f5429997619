"""Population colours that scale to many populations and stay readable for colour-blind readers.

Hues come from the Okabe–Ito palette (Okabe & Ito 2008, "Color Universal Design") and Paul Tol's
"muted" scheme, without pure reds (the report draws decoded and generated haplotypes in red). With
superpopulations (e.g. the 5 of 1000 Genomes), each superpopulation gets one hue and its
populations differ by marker shape and lightness, so 26 populations stay apart; without them,
populations cycle through the hues and then through marker shapes. Hue is never the only cue.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

#: Hues without pure reds, most distinct first: Okabe–Ito blue, orange, bluish green, reddish
#: purple; Tol olive; Okabe–Ito sky blue; Tol indigo; grey.
HUES = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#999933", "#56B4E9", "#332288", "#999999")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "h")
#: Lightness steps within a superpopulation (0 = the hue, >0 towards white, <0 towards black).
_SHADES = (0.0, -0.35, 0.35, -0.55, 0.55, -0.2, 0.2, -0.7, 0.7)


@dataclass(frozen=True)
class Style:
    """How one population is drawn."""

    colour: tuple[float, float, float]
    marker: str
    label: str


def _shade(hex_colour: str, amount: float) -> tuple[float, float, float]:
    rgb = np.array([int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    target = 1.0 if amount > 0 else 0.0
    return tuple(float(c) for c in rgb + (target - rgb) * abs(amount))  # type: ignore[return-value]


def population_styles(
    populations: Sequence[str], groups: Mapping[str, str] | None = None
) -> dict[str, Style]:
    """A style per population, in legend order (by superpopulation, then name).

    Args:
        populations: Population labels (repeats allowed).
        groups: Population → superpopulation, or ``None``.

    Returns:
        Population → :class:`Style`; labels read ``SUPER · POP`` when grouped.
    """
    names = sorted(set(map(str, populations)))
    styles: dict[str, Style] = {}
    if groups:
        by_group: dict[str, list[str]] = {}
        for pop in names:
            by_group.setdefault(groups.get(pop, "other"), []).append(pop)
        for g, (group, pops) in enumerate(sorted(by_group.items())):
            hue = HUES[g % len(HUES)]
            for k, pop in enumerate(pops):
                styles[pop] = Style(
                    _shade(hue, _SHADES[k % len(_SHADES)]),
                    MARKERS[k % len(MARKERS)],
                    f"{group} · {pop}",
                )
        return styles
    for k, pop in enumerate(names):
        styles[pop] = Style(
            _shade(HUES[k % len(HUES)], 0.0), MARKERS[k // len(HUES) % len(MARKERS)], pop
        )
    return styles
