"""The sweep's recommendation rule, and the write-back of the recommended β to a section's config.

Recommendation rule (:func:`recommend`): a point is eligible when training did not diverge, at least
``min_active_units`` latent dimensions are active, and neither its Bernoulli-sampled
reconstructions nor its generated samples (the default generator) are judged ``off-distribution``,
``mode-seeking`` or ``collapsed`` (:data:`~vae_genomics.evaluation.verdict.FAILING`). Among the
eligible points the one with the best (lowest) held-out −ELBO wins; ties go to the larger β. The
maximum-likelihood point can be a collapsed one (rate ≈ 0), which is why the best −ELBO alone is
not the rule. Every other point gets the reason it lost.
"""

from __future__ import annotations

import hashlib
import os
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from vae_genomics.common.errors import ConfigError, RunError, WrittenMeanwhileError
from vae_genomics.common.io import atomic_write_bytes, atomic_write_text
from vae_genomics.config import deep_merge, read_yaml
from vae_genomics.evaluation.verdict import FAILING

_HEADER = "# Recommended by `vae-genomics sweep`"


def recommend(table: pd.DataFrame, min_active_units: int = 2) -> tuple[int | None, dict[str, str]]:
    """Apply the recommendation rule (module docstring).

    Args:
        table: One row per point with ``point``, ``beta``, ``neg_elbo``, ``active_units``,
            ``verdict_reconstruction``, ``verdict_generated`` and ``diverged``.
        min_active_units: Fewest active latent dimensions a recommended model keeps.

    Returns:
        ``(row index of the recommended point or None, {point: why it won or lost})``.
    """
    reasons: dict[str, str] = {}
    eligible = []
    for i, row in table.iterrows():
        if row["diverged"]:
            reasons[row["point"]] = "training diverged"
        elif row["active_units"] < min_active_units:
            reasons[row["point"]] = (
                f"collapsed: {row['active_units']} active units < {min_active_units}"
            )
        elif row["verdict_reconstruction"] in FAILING:
            reasons[row["point"]] = f"reconstructions are {row['verdict_reconstruction']}"
        elif row["verdict_generated"] in FAILING:
            reasons[row["point"]] = f"generated samples are {row['verdict_generated']}"
        else:
            eligible.append(i)
    if not eligible:
        return None, reasons
    ranked = sorted(eligible, key=lambda i: (table.at[i, "neg_elbo"], -table.at[i, "beta"]))
    best = ranked[0]
    best_elbo = table.at[best, "neg_elbo"]
    reasons[table.at[best, "point"]] = (
        f"recommended: best held-out -ELBO ({best_elbo:.2f}) among eligible points"
    )
    for i in ranked[1:]:
        reasons[table.at[i, "point"]] = (
            f"eligible, but held-out -ELBO {table.at[i, 'neg_elbo']:.2f} > {best_elbo:.2f}"
        )
    return best, reasons


def _body_hash(text: str) -> str:
    """Short SHA-256 of a config file's body, recorded in the header this module writes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _split_header(text: str) -> tuple[list[str], str]:
    """The leading comment lines of a config file, and the rest of it."""
    lines = text.splitlines(keepends=True)
    header = []
    while lines and lines[0].startswith("#"):
        header.append(lines.pop(0))
    return header, "".join(lines)


def write_recommendation(
    path: Path, beta: float, provenance: dict[str, Any], merge: bool = False
) -> str:
    """Write ``objective.kl_weight = beta`` into a section's config file, never silently.

    - no file: it is created, exclusively at the final rename (a file that appeared meanwhile,
      e.g. another sweep's, is kept and this write refused);
    - a file this function wrote and nobody edited since (its recorded hash matches): replaced;
    - a file with user edits: with ``merge`` its other keys are kept, ``objective.kl_weight`` is set
      and the previous file is kept as ``<file>.bak`` (YAML comments are not carried over); without
      ``merge`` nothing is written and a :class:`ConfigError` says what to do.

    A replace or merge replaces only the content that was read: the file is compared with it again
    just before the rename, and one that changed meanwhile is left as it is. A symbolic link is
    neither written through nor replaced.

    Args:
        path: The section's config file (``<sections_dir>/<section>.yaml``).
        beta: The recommended KL weight.
        provenance: ``{what: value}`` lines written as comments into the file's header.
        merge: Merge into a file that has user edits (keeping a ``.bak``).

    Returns:
        ``created``, ``replaced`` or ``merged``.

    Raises:
        ConfigError: The file has edits and ``merge`` is false; it is a symbolic link; or it
            appeared or changed while the sweep ran.
    """
    path = Path(path)
    if path.is_symlink():
        raise ConfigError(_link_message(path, beta))
    before = path.read_bytes() if path.exists() else None
    existing: dict[str, Any] = {}
    action = "created"
    if before is not None:
        header, body = _split_header(before.decode("utf-8", errors="replace"))
        ours = any(_body_hash(body) in line for line in header) and header[0].startswith(_HEADER)
        if ours:
            action = "replaced"
        elif not merge:
            raise ConfigError(
                f"{path}: has edits of its own, so the recommended objective.kl_weight = {beta:g} "
                "was not written. Re-run with --merge to set it and keep the file's other keys "
                f"(a copy goes to {path.name}.bak), or set it by hand."
            )
        else:
            existing = read_yaml(path)  # a change after `before` was read is refused below
            atomic_write_bytes(path.with_name(path.name + ".bak"), before)
            action = "merged"
    content = deep_merge(existing, {"objective": {"kl_weight": float(beta)}})
    body = yaml.safe_dump(content, sort_keys=False, default_flow_style=False)
    lines = [f"{_HEADER} on {date.today().isoformat()}: objective.kl_weight = {beta:g}\n"]
    lines += [f"# {key}: {value}\n" for key, value in provenance.items()]
    lines.append(f"# content sha256: {_body_hash(body)} (edit freely; the next sweep will ask)\n")
    try:
        atomic_write_text(
            path, "".join(lines) + body, overwrite=False, replaces=before, refuse_link=True
        )
    except WrittenMeanwhileError:
        raise ConfigError(
            f"{path}: {'appeared' if before is None else 'changed'} while this sweep ran (another "
            "sweep, or an edit); it was left as it is and the recommended objective.kl_weight = "
            f"{beta:g} was not written. Run the sweep again (its finished points are reused) to "
            "decide against what the file holds now, or set the value by hand."
        ) from None
    except RunError:  # a link appeared at the file meanwhile
        raise ConfigError(_link_message(path, beta)) from None
    return action


def _link_message(path: Path, beta: float) -> str:
    try:
        target = os.readlink(path)
    except OSError:
        target = "?"
    return (
        f"{path}: a symbolic link (to {target}); the recommended objective.kl_weight = "
        f"{beta:g} is neither written through it nor over it. Set the value in the file it points "
        "to by hand, or replace the link by a copy of that file and run the sweep again."
    )
