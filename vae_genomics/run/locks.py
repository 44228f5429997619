"""Lock files: one job at a time writes a staging directory.

A lock is a small JSON file (``pid``, ``host``, ``started``) created atomically: it is written
complete under a temporary name and hard-linked to its final name, which fails when the name
exists, so two jobs can never both hold it and a reader never sees a half-written lock. A lock
whose owner ran on this host and no longer exists (a killed job) is stale and is taken over; a lock
of another host cannot be checked and is refused with the path to delete once that job is gone.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vae_genomics.common.errors import RunError

log = logging.getLogger(__name__)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except (OverflowError, ValueError):
        return False
    return True


def read_lock(path: Path) -> dict[str, Any] | None:
    """The owner recorded in a lock file, or ``None`` when it is missing or unreadable."""
    try:
        owner = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return owner if isinstance(owner, dict) else None


def is_stale(owner: dict[str, Any] | None) -> bool:
    """Whether a lock's owner is known to be gone: same host and its pid no longer runs."""
    if owner is None:
        return True  # unreadable: never written by acquire_lock (it writes before linking)
    if owner.get("host") != socket.gethostname():
        return False
    pid = owner.get("pid")
    return not isinstance(pid, int) or not _pid_alive(pid)


def acquire_lock(path: Path, what: str) -> None:
    """Create the lock file ``path`` for this process, or raise.

    Args:
        path: The lock file.
        what: What it protects, for the message (e.g. ``run runs/sec/r``).

    Raises:
        RunError: Another live job holds it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    owner = {"pid": os.getpid(), "host": socket.gethostname(),
             "started": datetime.now(UTC).isoformat(timespec="seconds")}  # fmt: skip
    fd, tmp = tempfile.mkstemp(prefix=f"{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(owner, handle)
        for _ in range(3):
            try:
                os.link(tmp, path)
                return
            except FileExistsError:
                held = read_lock(path)
                if held is None and not path.exists():
                    continue  # released meanwhile: try again
                if held is not None and (held.get("pid"), held.get("host")) == (
                    owner["pid"],
                    owner["host"],
                ):
                    raise RunError(f"{path}: {what} is already locked by this process.") from None
                if not is_stale(held):
                    raise RunError(
                        f"{path}: {what} is being written by another job (pid {held.get('pid')} "
                        f"on {held.get('host')}, started {held.get('started')}). Wait for it, "
                        "or use another --run-name. If that job no longer runs (e.g. it was on "
                        "another machine), delete this lock file."
                    ) from None
                log.warning("%s: removing the stale lock of a job that no longer runs (%s)",
                            path, held)  # fmt: skip
                _remove_stale(path, held, what)
        raise RunError(f"{path}: could not take the lock of {what}; try again.")
    finally:
        Path(tmp).unlink(missing_ok=True)


def _remove_stale(path: Path, held: dict[str, Any] | None, what: str) -> None:
    """Remove a stale lock, unless another job replaced it meanwhile (then restore theirs).

    The lock is first renamed to a name of this process's own (atomic: one job wins), and its
    content compared with the stale owner that was read.
    """
    aside = path.with_name(f"{path.name}.stale.{os.getpid()}")
    try:
        os.rename(path, aside)
    except FileNotFoundError:
        return  # another job removed it first
    try:
        if read_lock(aside) != held:  # a fresh lock taken in between: put it back
            with contextlib.suppress(FileExistsError):
                os.link(aside, path)
            raise RunError(f"{path}: {what} is being written by another job; try again later.")
    finally:
        aside.unlink(missing_ok=True)


def release_lock(path: Path) -> None:
    """Remove the lock file ``path`` if this process holds it."""
    held = read_lock(path)
    if (
        held is not None
        and held.get("pid") == os.getpid()
        and held.get("host") == socket.gethostname()
    ):
        Path(path).unlink(missing_ok=True)
