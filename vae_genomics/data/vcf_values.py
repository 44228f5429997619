"""What a VCF may carry: values from a run's files (contig, sample IDs, IDs, alleles, header
lines) checked before they are written, so that none breaks the file's layout or injects lines."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from vae_genomics.common.errors import DataError

#: A contig name a VCF header and records can carry (VCF 4.3, section 1.4.7): no whitespace, no
#: control characters, none of ``,<>[]`{}()\\'"``, and not starting with ``*`` or ``=``.
_CONTIG_NAME = re.compile(r"[0-9A-Za-z!#$%&+./:;?@^_|~-][0-9A-Za-z!#$%&*+./:;=?@^_|~-]*\Z")
#: Characters that may not appear in a header line: control characters (tab, line breaks, C1) and
#: the Unicode line and paragraph separators.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
#: ... and in a sample ID or an ID column, any whitespace too.
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f-\x9f]")
#: A biallelic SNP's REF / ALT allele (the only records the models are trained on).
_BASES = re.compile(r"[ACGTNacgtn]\Z")


def _unwritable(source: str, what: str, value: str, expected: str) -> DataError:
    """The error for a value that would break the VCF's layout (or inject lines into it)."""
    from vae_genomics.common.errors import bounded

    return DataError(
        bounded(
            f"{source}: {what} {value!r} cannot be written to a VCF: {expected}. A tab or line "
            "break would add columns or lines to the file; fix the value where it came from (or "
            "retrain from a VCF with valid names).",
            800,
        )
    )


def check_vcf_values(
    contig: str,
    samples: Sequence[str],
    positions: np.ndarray,
    columns: dict[str, Sequence[str]],
    header_lines: Sequence[str],
    source: str,
) -> None:
    """Refuse values that are not valid in the VCF text they go into.

    Args:
        contig: The ``##contig`` ID and CHROM of every record.
        samples: Sample IDs of the ``#CHROM`` line.
        positions: POS of every record (for messages).
        columns: ``ID``, ``REF`` and ``ALT`` column values, one per record.
        header_lines: Extra ``##`` lines.
        source: Where the values come from (e.g. a run's ``sites.tsv``), for the message.

    Raises:
        DataError: The first offending value, named with its source, record and what a VCF allows.
    """
    if not _CONTIG_NAME.match(contig):
        raise _unwritable(
            source, "contig name", contig, "a contig name holds no whitespace, control characters "
            "or any of , < > [ ] ` { } ( ) ' \" \\, and does not start with * or =",
        )  # fmt: skip
    for sample in samples:
        if not sample or _SPACE_OR_CONTROL.search(sample):
            raise _unwritable(source, "sample ID", sample, "a sample ID is non-empty, without "
                              "whitespace or control characters")  # fmt: skip
    for column, values in columns.items():
        for j, value in enumerate(values):
            value = str(value)
            bad = (
                not value or bool(_SPACE_OR_CONTROL.search(value))
                if column == "ID"
                else not _BASES.match(value)
            )
            if bad:
                expected = (
                    "an ID holds no whitespace or control characters"
                    if column == "ID"
                    else "a biallelic SNP's allele is one of A, C, G, T, N"
                )
                where = f"{column} of record {contig}:{positions[j]}"
                raise _unwritable(source, where, value, expected)
    for line in header_lines:
        if not line.startswith("##") or CONTROL.search(line):
            raise _unwritable(source, "header line", line, "a header line starts with ## and "
                              "holds no tab, line break or other control character")  # fmt: skip
