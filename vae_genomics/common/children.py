"""Worker processes that end with their parent.

A ``spawn`` worker of a :class:`concurrent.futures.ProcessPoolExecutor` waits on a queue whose
write end it holds itself, so it never sees its parent die: after ``kill -9`` of the command the
worker, and multiprocessing's resource tracker (which waits for every holder of its pipe), would
run on. :func:`die_with_parent`, the pools' initializer, starts a daemon thread in the worker that
exits the process as soon as the parent is gone. (Not PR_SET_PDEATHSIG: the kernel sends it when
the *thread* that started the worker ends, which for a pool may be a short-lived one.)
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

#: Seconds between two checks of the parent.
POLL_SECONDS = 0.5


def die_with_parent(parent: int | None = None, then: object = None, *args: object) -> None:
    """Exit this worker when its parent process ends (use as a pool's ``initializer``).

    Args:
        parent: The parent's process ID (``os.getpid()`` of the process making the pool); default:
            this process's parent now.
        then: Another initializer to run after (called with ``args``), or None.
    """
    parent = os.getppid() if parent is None else int(parent)
    if os.getppid() != parent:  # the parent died before the worker started
        os._exit(1)
        return  # (only where os._exit is replaced, in tests)
    watcher = threading.Thread(target=_watch, args=(parent,), name="die-with-parent", daemon=True)
    watcher.start()
    if callable(then):
        then(*args)


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(POLL_SECONDS)
    os._exit(1)


def spawn_pool(
    workers: int, initializer: Callable[..., object] | None = None, initargs: tuple = ()
) -> ProcessPoolExecutor:
    """A pool of ``workers`` fresh (``spawn``) processes that end with this one.

    ``spawn``: never a fork of a process running TensorFlow's threads. Each worker runs
    :func:`die_with_parent` first, then ``initializer(*initargs)``.
    """
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=die_with_parent,
        initargs=(os.getpid(), initializer, *initargs),
    )
