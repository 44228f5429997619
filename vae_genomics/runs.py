"""Run directories: layout, atomic writes, and loading a finished run.

A run lives in ``<runs_dir>/<section>/<run-name>/``. Training writes everything into a hidden staging
directory beside it (``.<run-name>.partial``) and renames it into place only when every artifact is
complete, so a killed job leaves no directory that looks finished. A finished run is never replaced
unless the caller asks to overwrite it. ``<runs_dir>/<section>/latest`` points at the newest run.
Individual files are written to a temporary name and renamed (atomic on POSIX file systems).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from vae_genomics.errors import RunError

MODEL_FILE = "model.keras"
CONFIG_FILE = "config.yaml"
SPLIT_FILE = "split.json"
HISTORY_FILE = "history.csv"
LATENT_FILE = "latent.tsv"
METRICS_FILE = "metrics.json"
REPORT_DIR = "report"
LATEST = "latest"


def default_run_name() -> str:
    """Timestamped run name, e.g. ``20261122-101500``."""
    return datetime.now().strftime("%Y%m%d-%H%M%S")


@dataclass
class RunStaging:
    """Where a run is being written and where it will land."""

    staging: Path
    final: Path
    overwrite: bool

    @contextmanager
    def discard_on_error(self) -> Iterator[None]:
        """Remove the staging directory if the block raises (including Ctrl-C)."""
        try:
            yield
        except BaseException:
            shutil.rmtree(self.staging, ignore_errors=True)
            raise

    def commit(self) -> Path:
        """Move the finished staging directory into place and update ``latest``.

        Returns:
            The final run directory.
        """
        if self.final.exists():
            if not self.overwrite:
                raise RunError(
                    f"{self.final}: appeared while this run was training; the new run is kept in "
                    f"{self.staging}. Move one of them aside."
                )
            trash = self.final.with_name(f".{self.final.name}.replaced")
            shutil.rmtree(trash, ignore_errors=True)
            os.replace(self.final, trash)
            os.replace(self.staging, self.final)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(self.staging, self.final)
        link = self.final.parent / LATEST
        tmp_link = self.final.parent / f".{LATEST}.tmp"
        tmp_link.unlink(missing_ok=True)
        tmp_link.symlink_to(self.final.name)
        os.replace(tmp_link, link)
        return self.final


def stage_run(parent: Path, run_name: str | None, overwrite: bool) -> RunStaging:
    """Prepare a staging directory for a new run in ``parent`` (usually ``<runs_dir>/<section>``).

    Raises:
        RunError: The run already exists and ``overwrite`` is false.
    """
    name = run_name or default_run_name()
    if name == LATEST or name.startswith(".") or "/" in name:
        raise RunError(f"invalid run name '{name}': use letters, digits, '-', '_' or '.'.")
    final = Path(parent) / name
    if final.exists() and not overwrite:
        raise RunError(
            f"{final}: a finished run with this name exists. Choose another --run-name, or pass "
            "--overwrite to replace it."
        )
    staging = final.with_name(f".{name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    return RunStaging(staging=staging, final=final, overwrite=overwrite)


def resolve_run_dir(path: str | Path) -> Path:
    """A run directory from a run path or a section directory (whose ``latest`` run is used).

    Raises:
        RunError: Not a finished run directory.
    """
    path = Path(path)
    if (path / LATEST).exists():
        path = (path / LATEST).resolve()
    missing = [f for f in (CONFIG_FILE, MODEL_FILE, SPLIT_FILE) if not (path / f).is_file()]
    if not path.is_dir() or missing:
        raise RunError(
            f"{path}: not a finished run directory (missing {', '.join(missing) or 'directory'}). "
            "Give runs/<section>/<run-name> or runs/<section>; train first with `make train`."
        )
    return path


def read_json(path: Path) -> Any:
    """Read a JSON file."""
    return json.loads(Path(path).read_text())
