"""Processes a command starts end with it: after ``kill -9`` no worker or resource tracker remains."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")

ROOT = Path(__file__).resolve().parent.parent


def _children(pid: int) -> list[int]:
    """Live processes whose parent is ``pid`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _stat(int(entry.name))[1] == pid:
            found.append(int(entry.name))
    return found


def _stat(pid: int) -> tuple[str, int]:
    """State letter and parent pid of ``pid`` (``("X", 0)`` once it is gone)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return "X", 0
    fields = text[text.rindex(")") + 2 :].split()
    return fields[0], int(fields[1])


def _alive(pid: int) -> bool:
    return _stat(pid)[0] not in ("X", "Z")  # a zombie has ended; its new parent reaps it


def _kill_and_wait(script: str) -> tuple[list[int], list[int]]:
    """Run ``script`` until it prints ``ready``, kill -9 it; its children before and after."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, env=env)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
        children = _children(proc.pid)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(map(_alive, children)):
        time.sleep(0.2)
    left = [pid for pid in children if _alive(pid)]
    for pid in left:  # never leave them behind, whatever the assertion says
        os.kill(pid, signal.SIGKILL)
    return children, left


def test_the_report_drawing_worker_and_the_resource_tracker_die_with_train_sections():
    script = textwrap.dedent(
        """
        import os, time
        from vae_genomics.commands.train_sections import _drawing_pool
        pool = _drawing_pool()
        assert pool.submit(os.getpid).result() != os.getpid()
        print("ready", flush=True)
        time.sleep(120)
        """
    )
    children, left = _kill_and_wait(script)
    assert len(children) >= 2  # the drawing worker and multiprocessing's resource tracker
    assert left == []


def test_the_sweeps_spawned_points_die_with_it():
    script = textwrap.dedent(
        """
        import os, time
        from vae_genomics.commands.sweep import _init_worker
        from vae_genomics.common.children import spawn_pool
        pool = spawn_pool(2, _init_worker, (1,))
        futures = [pool.submit(time.sleep, 0.5) for _ in range(2)]
        [f.result() for f in futures]
        print("ready", flush=True)
        time.sleep(120)
        """
    )
    children, left = _kill_and_wait(script)
    assert len(children) >= 2 and left == []


def test_a_worker_whose_parent_is_already_gone_exits(monkeypatch):
    from vae_genomics.common import children

    exits = []
    monkeypatch.setattr(children.os, "_exit", lambda code: exits.append(code))
    children.die_with_parent(os.getppid() + 10**6, None)
    assert exits == [1]


def test_stop_ends_a_busy_drawing_process_without_waiting():
    """What an interrupted batch does (``train_sections._abandon``) before discarding its staged
    runs: the report being drawn is not waited for."""
    from concurrent.futures import CancelledError
    from contextlib import suppress

    from vae_genomics.commands.drawing_process import DrawingProcess

    process = DrawingProcess()
    pid = process.submit(os.getpid).result()
    busy = process.submit(time.sleep, 60)  # a report that takes long
    started = time.monotonic()
    process.stop()
    while _alive(pid) and time.monotonic() - started < 10:
        time.sleep(0.1)
    assert not _alive(pid)
    with suppress(CancelledError):  # failed with the process, or cancelled before it started
        assert busy.exception(timeout=10) is not None
    assert busy.done()
    process.shutdown()


def test_a_drawing_process_that_died_is_started_again_for_the_next_section(caplog):
    from concurrent.futures.process import BrokenProcessPool

    from vae_genomics.commands.drawing_process import DrawingProcess

    process = DrawingProcess()
    try:
        pid = process.submit(os.getpid).result()
        held = process.submit(time.sleep, 30)  # the report being drawn when it is killed
        time.sleep(0.5)
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(BrokenProcessPool):
            held.result(timeout=20)
        again = process.submit(os.getpid).result(timeout=60)  # the next section's report
        assert again not in (pid, os.getpid())
        assert "drawing process, which draws each section's report, ended unexpectedly" in (
            caplog.text
        )
    finally:
        process.shutdown()
