"""``vae-genomics`` entry point: parse the arguments, dispatch to the verb's module in
:mod:`vae_genomics.commands` (``run_command(args)``), and turn its errors into exit codes."""

from __future__ import annotations

import importlib
import logging
import signal
import sys
import threading
from typing import Any

from vae_genomics.cli.parser import build_parser
from vae_genomics.common.errors import (
    VaeGenomicsError,
    bounded,
    os_error_message,
)

log = logging.getLogger("vae_genomics")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``vae-genomics`` console script.

    Returns:
        0 on success, 2 for bad input (the message says what to fix), 130 when interrupted.
    """
    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    from vae_genomics.common.logs import setup_logging

    setup_logging(args.verbose, args.quiet)
    command = importlib.import_module(f"vae_genomics.commands.{args.command}")
    previous = _sigterm_interrupts(args.command)
    try:
        command.run_command(args)
    except VaeGenomicsError as exc:
        log.error("%s", bounded(str(exc)))
        return 2
    except KeyboardInterrupt:
        log.error("interrupted; no finished artifact was replaced")
        return 130
    except OSError as exc:
        log.debug("traceback of the error below", exc_info=True)
        log.error("%s: %s", args.command, os_error_message(exc))
        return 2
    except Exception as exc:  # anything else: one line, the traceback only with -v
        log.debug("traceback of the error below", exc_info=True)
        if isinstance(exc, MemoryError) or type(exc).__name__ == "ResourceExhaustedError":
            log.error(
                "%s ran out of memory (%s: %s). Ask for less at once: a smaller "
                "training.batch_size or model.hidden_units, fewer haplotypes per command (--n), "
                "or a machine or job with more memory; a training keeps its checkpoint for "
                "--resume.",
                args.command, type(exc).__name__, bounded(str(exc) or "(no message)", 200),
            )  # fmt: skip
            return 2
        log.error(
            "%s failed unexpectedly: %s: %s. Run it again with -v for the traceback.",
            args.command, type(exc).__name__, bounded(str(exc) or "(no message)", 300),
        )  # fmt: skip
        return 2
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    return 0


#: Commands whose SIGTERM stays the default (the process ends at once): the sweep, whose points
#: run in child processes that end with it (``common.children``); an interrupt would wait for
#: them.
_SIGTERM_KILLS = frozenset({"sweep"})


def _sigterm_interrupts(command: str) -> Any:
    """SIGTERM as Ctrl-C for ``command`` (:func:`~vae_genomics.commands.options.interrupt_on_sigterm`)
    when it runs in the main thread; the previous handler, or None where none was set."""
    if command in _SIGTERM_KILLS or threading.current_thread() is not threading.main_thread():
        return None
    from vae_genomics.commands.options import interrupt_on_sigterm

    return interrupt_on_sigterm()


if __name__ == "__main__":
    sys.exit(main())
