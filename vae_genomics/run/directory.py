"""Run directories: layout, atomic writes, and loading a finished run.

A run lives in ``<runs_dir>/<section>/<run-name>/``. Training writes everything into a hidden staging
directory beside it (``.<run-name>.partial``) and renames it into place only when every artifact is
complete, so a killed job leaves no directory that looks finished. A finished run is never replaced
unless the caller asks to overwrite it. ``<runs_dir>/<section>/latest`` points at the newest run.
Individual files are written to a temporary name and renamed (atomic on POSIX file systems).

Resuming: while training, ``.<run-name>.partial/checkpoint/state.npz`` holds the training state of
the last completed epoch (written atomically). A job that fails for any reason (killed, SIGTERM or
Ctrl-C, a full disk, an error after training) keeps its staging directory when it holds a
checkpoint; started again with the same run name and ``resume``, it continues from that
checkpoint. The checkpoint is removed only when the run commits (just before the rename, so a
resumed run has exactly the layout of an uninterrupted one) or when the user asks for a fresh start
with ``overwrite``; started again with neither flag, the job refuses. A staging directory without
a checkpoint holds nothing worth keeping and is removed on an error. A directory without files
where the run will land (Snakemake creates the parents of its outputs, e.g. ``<run>/report/``) does
not count as a finished run.

Locking: one job at a time writes a run name. ``.<run-name>.lock`` beside the staging directory
(:mod:`vae_genomics.run.locks`: pid and host) is taken before the staging directory is touched and
released after the commit or the error; a second job of the same name is refused while it is held,
and a lock left by a killed job on this host is taken over.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from vae_genomics.common.errors import RunError
from vae_genomics.run.locks import acquire_lock, release_lock

log = logging.getLogger(__name__)

MODEL_FILE = "model.keras"
CONFIG_FILE = "config.yaml"
SPLIT_FILE = "split.json"
HISTORY_FILE = "history.csv"
LATENT_FILE = "latent.tsv"
METRICS_FILE = "metrics.json"
REPORT_DIR = "report"
LATEST = "latest"
CHECKPOINT_DIR = "checkpoint"
CHECKPOINT_FILE = "state.npz"


def default_run_name() -> str:
    """Timestamped run name, e.g. ``20261122-101500``."""
    return datetime.now().strftime("%Y%m%d-%H%M%S")


@dataclass
class RunStaging:
    """Where a run is being written and where it will land."""

    staging: Path
    final: Path
    overwrite: bool

    @property
    def checkpoint(self) -> Path:
        """The training checkpoint inside the staging directory (see the module docstring)."""
        return self.staging / CHECKPOINT_DIR / CHECKPOINT_FILE

    @property
    def lock(self) -> Path:
        """The lock file of this run name (see the module docstring)."""
        return self.final.with_name(f".{self.final.name}.lock")

    def release(self) -> None:
        """Release the run name's lock (after :meth:`commit` or an error)."""
        release_lock(self.lock)

    @contextmanager
    def discard_on_error(self) -> Iterator[None]:
        """On an error in the block, keep the staging directory if it holds a checkpoint.

        Whatever the error (an interruption, a full disk, a refused resume, an error after
        training), a checkpoint is kept for ``--resume``; a staging directory without one is
        removed. The lock is released either way.
        """
        try:
            yield
        except BaseException as exc:
            if self.checkpoint.is_file():
                log.error(
                    "%s: the checkpoint of the last completed epoch is kept in %s; run the same "
                    "command with --resume (and --run-name %s) to continue, or with --overwrite "
                    "to start afresh",
                    "interrupted" if isinstance(exc, KeyboardInterrupt | SystemExit) else
                    "failed", self.staging, self.final.name,
                )  # fmt: skip
            else:
                shutil.rmtree(self.staging, ignore_errors=True)
            self.release()
            raise

    def commit(self) -> Path:
        """Move the finished staging directory into place, update ``latest``, release the lock.

        Returns:
            The final run directory.
        """
        try:
            return self._commit()
        finally:
            self.release()

    def _commit(self) -> Path:
        shutil.rmtree(self.staging / CHECKPOINT_DIR, ignore_errors=True)
        if _is_empty_dir(self.final):
            shutil.rmtree(self.final)
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


def _is_empty_dir(path: Path) -> bool:
    """A directory tree without a file in it (e.g. ``<run>/report/`` made for a workflow output)."""
    if not path.is_dir() or path.is_symlink():
        return False
    return not any(p.is_file() or p.is_symlink() for p in path.rglob("*"))


def check_new_run(parent: Path, run_name: str, overwrite: bool) -> Path:
    """The directory of a new run ``run_name`` in ``parent``, refused where a finished run of
    that name is (unless ``overwrite``) or the name is not a plain one.

    Raises:
        RunError: A finished run of that name exists and ``overwrite`` is false; a bad name.
    """
    check_run_name(run_name, "run name")
    final = Path(parent) / run_name
    if final.exists() and not _is_empty_dir(final) and not overwrite:
        raise RunError(
            f"{final}: a finished run with this name exists. Choose another --run-name, or pass "
            "--overwrite to replace it."
        )
    return final


def stage_run(
    parent: Path, run_name: str | None, overwrite: bool, resume: bool = False
) -> RunStaging:
    """Prepare a staging directory for a new run in ``parent`` (usually ``<runs_dir>/<section>``).

    Args:
        parent: Directory that holds the run.
        run_name: Name of the run (default: a timestamp).
        overwrite: Replace a finished run of that name when this one commits.
        resume: Continue from the checkpoint of an interrupted run of that name.

    Returns:
        The staging, holding the run name's lock (release it with :meth:`RunStaging.release`).

    Raises:
        RunError: The run already exists, or an interrupted run left a checkpoint, and neither
            ``overwrite`` nor (for the checkpoint) ``resume`` is given; or another job holds the
            lock.
    """
    name = run_name or default_run_name()
    final = check_new_run(parent, name, overwrite)
    staging = final.with_name(f".{name}.partial")
    run = RunStaging(staging=staging, final=final, overwrite=overwrite)
    acquire_lock(run.lock, f"run {final}")
    try:
        if resume and run.checkpoint.is_file():
            log.info("resuming the interrupted run in %s", staging)
            return run
        if run.checkpoint.is_file():
            if not overwrite:
                raise RunError(
                    f"{staging}: an interrupted run of this name left a checkpoint. Pass --resume "
                    "to continue it, or --overwrite to discard it and start afresh."
                )
            log.warning(
                "%s: discarding the checkpoint of an interrupted run (--overwrite)", staging
            )
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
    except BaseException:
        run.release()
        raise
    return run


def fresh_staging(path: Path) -> Path:
    """Create ``path``, a command's staging directory inside a run, empty and new.

    A symbolic link there is refused, never followed: files staged through it would be written
    outside the run, and files placed there by others moved into it.

    Raises:
        RunError: ``path`` is a symbolic link (named, with its target).
    """
    path = Path(path)
    if path.is_symlink():
        raise RunError(
            f"{path}: a symbolic link (to {os.readlink(path)}) where this command stages its "
            "files; it is never followed, as files would be moved from outside the run into it. "
            "Remove the link and run the command again."
        )
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir()
    return path


def remove_dir(path: Path) -> None:
    """Remove a directory tree of a run; a symbolic link is removed itself, never followed."""
    if Path(path).is_symlink():
        Path(path).unlink()
    else:
        shutil.rmtree(path, ignore_errors=True)


def check_run_name(name: str, what: str = "run name") -> None:
    """Refuse names that would leave their directory (``..``, ``/``) or clash with the layout.

    Raises:
        RunError: ``name`` is empty, ``latest``, hidden, or holds a path separator.
    """
    if not name or name == LATEST or name.startswith(".") or "/" in name or "\\" in name:
        raise RunError(
            f"invalid {what} {name[:80]!r}: use letters, digits, '-', '_' or '.' (not starting "
            "with '.', no '/', not 'latest')."
        )


def resolve_run_dir(path: str | Path) -> Path:
    """A run directory from a run path or a section directory (whose ``latest`` run is used).

    Raises:
        RunError: Not a finished run directory.
    """
    path = Path(path)
    link = path / LATEST
    if link.is_symlink() and not link.exists():
        raise RunError(
            f"{link}: a dangling link (to {os.readlink(link)}, which is gone). Give a run "
            "directory instead, or train the section again to renew the link."
        )
    if link.exists():
        path = link.resolve()
    missing = [f for f in (CONFIG_FILE, MODEL_FILE, SPLIT_FILE) if not (path / f).is_file()]
    if not path.is_dir() or missing:
        raise RunError(
            f"{path}: not a finished run directory (missing {', '.join(missing) or 'directory'}). "
            "Give runs/<section>/<run-name> or runs/<section>; train first with `make train`."
        )
    return path


def model_file_problem(path: Path) -> str | None:
    """Why a run's ``model.keras`` is not a complete archive, or ``None`` when it is.

    A ``.keras`` file is a zip archive: a copy or a write cut short has no central directory at
    its end, and a damaged member fails its CRC-32 (checked by reading the archive once, which is
    cheap next to training).

    Args:
        path: The model file.

    Returns:
        A phrase such as ``"is not a complete zip archive (it may have been cut short)"``, or
        ``None``.
    """
    import zipfile

    if not path.is_file():
        return "is missing"
    if not zipfile.is_zipfile(path):
        return "is not a complete zip archive (it may have been cut short)"
    try:
        with zipfile.ZipFile(path) as archive:
            damaged = archive.testzip()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        return f"cannot be read as a zip archive ({exc})"
    if damaged is not None:
        return f"has a damaged member, {damaged} (its CRC-32 does not match)"
    return None


def read_json(path: Path) -> Any:
    """Read a JSON file of a run.

    Raises:
        RunError: The file is not valid UTF-8 JSON (damaged, truncated or edited).
    """
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise damaged(path, exc) from None


def damaged(path: Path, cause: Exception | str) -> RunError:
    """The error for a damaged file of a run: which file, why, and what to do."""
    reason = str(cause).splitlines()[0][:200] if str(cause) else type(cause).__name__
    return RunError(
        f"{path}: damaged or not written by vae-genomics ({reason}). Restore it from a copy, "
        "or train the section again (`train --overwrite` with this run name)."
    )


def run_inputs(run_dir: Path) -> list[Path]:
    """What a command reading a finished run must never write over: the run directory and the
    data files its configuration names (VCF and its index, cache, populations, samples, BED)."""
    from vae_genomics.config import read_yaml

    run_dir = Path(run_dir)
    inputs = [run_dir]
    try:
        data = read_yaml(run_dir / CONFIG_FILE).get("data") or {}
    except Exception:  # a broken config is reported when the run is loaded
        data = {}
    for key in ("vcf", "cache", "populations", "samples", "bed"):
        if isinstance(data.get(key), str):
            inputs.append(Path(data[key]))
    if isinstance(data.get("vcf"), str):
        inputs += [Path(data["vcf"] + ".tbi"), Path(data["vcf"] + ".csi")]
    return inputs
