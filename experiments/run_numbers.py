#!/usr/bin/env python
"""One line of numbers per finished run: fit, likelihood attack, the default generator's
coverage and LD ÷ the ceiling, its privacy-loss and AUC excess, and whether it meets `standard`
and `lenient` (the columns of :mod:`experiments.dropout_table`, for runs of any name).

Usage:
    python -m experiments.run_numbers RUN_DIR [RUN_DIR ...]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from experiments.dropout_table import run_numbers


def main(argv: list[str] | None = None) -> int:
    for run_dir in sys.argv[1:] if argv is None else argv:
        numbers = run_numbers(json.loads((Path(run_dir) / "metrics.json").read_text()))
        print(run_dir, " ".join(f"{k}={v:.3f}" for k, v in numbers.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
