"""Atomic file writes (a killed process leaves either the old complete file or none) and the
conversion of numpy results to plain JSON types.

Every output is written under a temporary name beside it and published by one rename, which is also
where the existence check is made: a new file is published exclusively (:func:`publish`), a replaced
one can be required to still hold what the command read (``replaces``), a derived page can
refuse a link at its place (``refuse_link``), and a directory is published exclusively by
:func:`publish_dir`.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import socket
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import yaml


def atomic_write_bytes(
    path: Path,
    data: bytes,
    overwrite: bool = True,
    *,
    replaces: bytes | None = None,
    refuse_link: bool = False,
) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same directory and a rename.

    With ``overwrite`` false the rename is exclusive (:func:`publish`): a file that appeared at
    ``path`` meanwhile (another job's) is kept and this write is refused. ``replaces`` and
    ``refuse_link`` are passed to :func:`publish`.
    """
    path = Path(path)
    if path.is_dir() and not path.is_symlink():
        raise IsADirectoryError(errno.EISDIR, "is a directory, expected a file path", str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp creates the file private (0600); give it the permissions of an ordinary new file
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        publish(Path(tmp), path, overwrite, replaces=replaces, refuse_link=refuse_link)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def publish(
    tmp: Path,
    path: Path,
    overwrite: bool,
    *,
    replaces: bytes | None = None,
    refuse_link: bool = False,
) -> None:
    """Rename the finished temporary file ``tmp`` to ``path`` (same directory).

    The existence check is made by the rename itself, so two jobs writing one path cannot both
    succeed: without ``overwrite`` the file is hard-linked to ``path`` (which fails if anything,
    even a dangling link, is there) and ``tmp`` removed. A link at ``path`` is never followed: with
    ``overwrite`` it is replaced by the file, not written through.

    Args:
        tmp: The finished temporary file, beside ``path``.
        path: Where it is published.
        overwrite: Replace what is at ``path`` (else the rename is exclusive).
        replaces: The content the command read from ``path`` and computed this file from: the
            file is replaced only if ``path`` still holds exactly these bytes, checked just before
            the rename (``overwrite`` is then ignored). Use ``overwrite=False`` for a file that did
            not exist when read.
        refuse_link: Refuse a symbolic link at ``path`` instead of replacing it (for files a
            command regenerates in place, such as an index page).

    Raises:
        WrittenMeanwhileError: ``path`` exists and ``overwrite`` is false, or it no longer holds
            ``replaces`` (``tmp`` is removed; ``path`` is left as it is).
        RunError: ``refuse_link`` and ``path`` is a symbolic link (``tmp`` is removed).
    """
    from vae_genomics.common.errors import RunError, WrittenMeanwhileError

    if refuse_link and path.is_symlink():
        Path(tmp).unlink(missing_ok=True)
        raise RunError(
            f"{path}: a symbolic link (to {os.readlink(path)}) where this command writes a file; "
            "it is never followed or replaced. Remove the link (or replace it by a copy of its "
            "target) and run the command again."
        )
    if replaces is not None:
        if _current_bytes(path) != replaces:
            Path(tmp).unlink(missing_ok=True)
            raise WrittenMeanwhileError(
                f"{path}: changed while this command ran (another job, or an edit); it was left "
                "as it is. Run the command again to start from what it holds now."
            )
        os.replace(tmp, path)
        return
    if overwrite:
        os.replace(tmp, path)
        return
    try:
        try:
            os.link(tmp, path, follow_symlinks=False)
        except FileExistsError:
            raise
        except OSError:  # a file system without hard links: create the name exclusively
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600))
            os.replace(tmp, path)
    except FileExistsError:
        Path(tmp).unlink(missing_ok=True)
        raise WrittenMeanwhileError(
            f"{path}: exists (written meanwhile by another job?); it was left as it is. Pass "
            "--overwrite to replace it, or choose another output path."
        ) from None
    Path(tmp).unlink(missing_ok=True)


def _current_bytes(path: Path) -> bytes | None:
    """What ``path`` holds now (``None``: nothing, a link or not a file)."""
    if path.is_symlink() or not path.is_file():
        return None
    try:
        return path.read_bytes()
    except OSError:
        return None


def publish_dir(tmp: Path, path: Path) -> bool:
    """Rename the finished temporary directory ``tmp`` to ``path`` (same parent), exclusively.

    The name is claimed by creating an empty directory there (``mkdir`` fails if anything, even a
    dangling link, is at ``path``) and ``tmp`` renamed over it; an empty directory found there (a
    workflow's pre-made output directory) is taken over the same way. The rename fails if files
    appeared in the claimed directory meanwhile.

    Returns:
        True when published; False when something is at ``path`` (left as it is, and ``tmp`` too:
        the caller decides what to do with them).
    """
    claimed = False
    try:
        os.mkdir(path)
        claimed = True
    except FileExistsError:
        if path.is_symlink() or not path.is_dir() or any(path.iterdir()):
            return False
    try:
        os.rename(tmp, path)  # replaces only an empty directory
    except OSError as exc:
        if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
            if claimed:
                with contextlib.suppress(OSError):
                    os.rmdir(path)
            raise
        return False
    return True


def job_token() -> str:
    """``<host>.<pid>`` of this process, for temporary names only it writes."""
    return f"{socket.gethostname()}.{os.getpid()}"


def is_dead_job(token: str) -> bool:
    """Whether the job of a :func:`job_token` ran on this host and no longer runs."""
    host, _, pid = token.rpartition(".")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError, ValueError):
        return False
    return False


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(
    path: Path,
    text: str,
    overwrite: bool = True,
    *,
    replaces: bytes | None = None,
    refuse_link: bool = False,
) -> None:
    """Text version of :func:`atomic_write_bytes` (UTF-8)."""
    data = text.encode("utf-8")
    atomic_write_bytes(path, data, overwrite, replaces=replaces, refuse_link=refuse_link)


def write_json(path: Path, obj: Any, overwrite: bool = True, *, refuse_link: bool = False) -> None:
    """Atomically write ``obj`` as indented JSON (exclusively unless ``overwrite``)."""
    text = json.dumps(obj, indent=2, sort_keys=False) + "\n"
    atomic_write_text(path, text, overwrite, refuse_link=refuse_link)


def to_jsonable(value: Any) -> Any:
    """Plain Python types for ``json.dumps``: numpy scalars/arrays converted, NaN and inf to None."""
    if isinstance(value, Mapping):
        return {str(key): to_jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [to_jsonable(item) for item in value]
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer | int):
        return int(value)
    if isinstance(value, np.floating | float):
        return float(value) if math.isfinite(value) else None
    return value


def write_yaml(path: Path, obj: Any) -> None:
    """Atomically write ``obj`` as block-style YAML."""
    atomic_write_text(path, yaml.safe_dump(obj, sort_keys=False, default_flow_style=False))


def check_output_path(
    out: str | Path, overwrite: bool, protected: Iterable[str | Path] = (), option: str = "--out"
) -> Path:
    """Check that ``out`` may be written: a file path, not an input, new unless ``overwrite``.

    Args:
        out: The output file.
        overwrite: Whether an existing file may be replaced.
        protected: Inputs that are never written over (files, or directories whose files are all
            protected, e.g. a run directory), whatever ``overwrite`` says.
        option: The option that named ``out``, for messages.

    Returns:
        ``out`` as a path.

    Raises:
        RunError: ``out`` is a directory, an input, or exists without ``overwrite``.
    """
    from vae_genomics.common.errors import RunError

    out = Path(out)
    if out.is_dir():
        raise RunError(
            f"{out}: {option} is a directory; give a file name inside it (e.g. {out / 'out.tsv'})."
        )
    target = out.resolve()
    for item in protected:
        item = Path(item)
        inside = item.is_dir() and target.is_relative_to(item.resolve())
        if inside or target == item.resolve() or _same_file(out, item):
            raise RunError(
                f"{out}: {option} would write over an input of this command ({item}); it is never "
                "replaced. Choose another output path."
            )
    if (out.exists() or out.is_symlink()) and not overwrite:
        raise RunError(
            f"{out}: exists. Pass --overwrite to replace it, or choose another {option}."
        )
    return out


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def missing_file(path: Path, what: str) -> str:
    """Why ``path`` is not a readable file: a directory, a dangling link, or not found (a relative
    path names the working directory it was looked for in: configurations are often run from
    another directory than the one their paths assume)."""
    path = Path(path)
    if path.is_dir():
        return f"is a directory, not a {what}"
    if path.is_symlink():
        return f"is a dangling link (to {os.readlink(path)}); its {what} is gone"
    if not path.is_absolute():
        return f"{what} not found (a relative path, looked for from the working directory {Path.cwd()})"
    return f"{what} not found"


def require_file(path: str | Path, what: str, fix: str) -> Path:
    """``path`` as a Path, or a :class:`DataError` naming it, why it is not a file
    (:func:`missing_file`) and ``fix`` (e.g. ``Fix data.bed.``)."""
    from vae_genomics.common.errors import DataError

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: {missing_file(path, what)}. {fix}")
    return path


def read_text_file(path: str | Path, what: str, fix: str) -> str:
    """The UTF-8 text of a user's input file, or a :class:`DataError` saying what is wrong.

    Args:
        path: The file.
        what: What it is, for messages (e.g. ``BED file``).
        fix: What to do, appended to messages (e.g. ``Fix data.bed.``).

    Raises:
        DataError: Missing, a directory, a dangling link, unreadable, or not UTF-8 text.
    """
    from vae_genomics.common.errors import DataError

    path = require_file(path, what, fix)
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise DataError(
            f"{path}: line {line} holds bytes that are not UTF-8 text; save the {what} as UTF-8. "
            f"{fix}"
        ) from None
    except OSError as exc:
        raise DataError(f"{path}: the {what} cannot be read ({exc.strerror}). {fix}") from None
