"""Logging set-up, TensorFlow's start-up lines kept out of the log, and progress-line wording.

TensorFlow's C++ runtime writes a few lines to standard error when it is imported (absl's
"All log messages before absl::InitializeLog() is called ..." and the oneDNN notice), before any
``TF_CPP_MIN_LOG_LEVEL`` takes effect. :func:`import_tensorflow_quietly` imports it with the
process's standard error sent to a temporary file and passes on every line that is not one of
those notices, so real warnings and errors still reach the log.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
import sys
import tempfile

#: Start-up notices of TensorFlow's runtime that say nothing about the user's run.
_STARTUP_NOISE = re.compile(
    r"All log messages before absl::InitializeLog|oneDNN custom operations are on|"
    r"Unable to register cu(DNN|FFT|BLAS) factory|computation placer already registered|"
    r"This TensorFlow binary is optimized to use available CPU instructions|"
    r"To enable the following instructions|rebuild TensorFlow with the appropriate compiler"
)


def setup_logging(verbose: bool = False, quiet: bool = False) -> None:
    """Log lines ``HH:MM:SS LEVEL message`` on standard error (DEBUG, INFO or WARNING and up)."""
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S"
    )


def import_tensorflow_quietly(show_all: bool = False, module: str = "keras") -> None:
    """Import TensorFlow (and Keras) with its start-up notices filtered out of standard error.

    Args:
        show_all: Pass everything through (``--verbose``).
        module: What to import (Keras, whose TensorFlow backend imports TensorFlow).
    """
    if "tensorflow" in sys.modules or show_all:
        importlib.import_module(module)
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as capture:
        os.dup2(capture.fileno(), 2)
        try:
            importlib.import_module(module)
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            text = capture.read().decode("utf-8", errors="replace")
            kept = [line for line in text.splitlines() if line and not _STARTUP_NOISE.search(line)]
            if kept:
                sys.stderr.write("\n".join(kept) + "\n")


def duration(seconds: float) -> str:
    """``42 s``, ``3 min 05 s``, ``2 h 07 min``."""
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def rate_and_eta(done: int, total: int, elapsed: float, unit: str) -> str:
    """Progress wording for a log line, e.g. ``2.1 s/epoch, ETA 3 min 10 s``.

    Args:
        done: Steps finished in ``elapsed`` seconds (> 0).
        total: Steps in all (``done`` included).
        elapsed: Seconds the ``done`` steps took.
        unit: Name of a step (``epoch``, ``point``).
    """
    if done <= 0 or elapsed <= 0:
        return ""
    per = elapsed / done
    rate = f"{per:.2g} s/{unit}" if per >= 1 else f"{1 / per:.3g} {unit}s/s"
    left = max(0, total - done)
    return f"{rate}, ETA {duration(per * left)}" if left else rate
