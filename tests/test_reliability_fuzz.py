"""Mutated VCFs through ``sections``: every one is listed (exit 0) or refused clearly (exit 2).

Seeded mutations of a small valid VCF: truncations, byte flips, swapped columns, bad genotypes,
duplicated, dropped and shuffled lines, and truncated bgzip files. None may reach the command
line's catch-all for unexpected exceptions (which would mean a traceback before it existed).
"""

from __future__ import annotations

import gzip
import logging

import numpy as np
from vcf_factory import structured_haplotypes, vcf_text

from vae_genomics import cli

N_CASES = 160
BAD_GENOTYPES = ["0|2", ".|1", "0/1", "a|b", "0", "1|1|0", "", "0|", "|", "1|.", "9999|0", "0\\1"]


def _base() -> str:
    hap, _ = structured_haplotypes(n_samples=6, n_variants=24)
    return vcf_text(hap)


def _mutate(text: str, rng: np.random.Generator) -> tuple[str, bytes]:
    """One seeded mutation of ``text``: (its kind, the mutated bytes)."""
    data = text.encode()
    lines = text.split("\n")
    body = [i for i, line in enumerate(lines) if line and not line.startswith("#")]
    kind = rng.choice(["truncate", "flip", "swap", "genotype", "lines", "header", "binary"])
    if kind == "truncate":
        return kind, data[: int(rng.integers(0, len(data)))]
    if kind == "flip":
        buf = bytearray(data)
        for pos in rng.integers(0, len(buf), size=int(rng.integers(1, 8))):
            buf[pos] = int(rng.integers(0, 256))
        return kind, bytes(buf)
    if kind == "swap":
        for i in rng.choice(body, size=int(rng.integers(1, len(body))), replace=False):
            fields = lines[i].split("\t")
            a, b = rng.choice(len(fields), size=2, replace=False)
            fields[a], fields[b] = fields[b], fields[a]
            lines[i] = "\t".join(fields)
        return kind, "\n".join(lines).encode()
    if kind == "genotype":
        for i in rng.choice(body, size=int(rng.integers(1, 4)), replace=False):
            fields = lines[i].split("\t")
            fields[int(rng.integers(9, len(fields)))] = str(rng.choice(BAD_GENOTYPES))
            lines[i] = "\t".join(fields)
        return kind, "\n".join(lines).encode()
    if kind == "lines":
        i = int(rng.choice(body))
        action = rng.choice(["duplicate", "drop", "shuffle", "cut"])
        if action == "duplicate":
            lines.insert(i, lines[i])
        elif action == "drop":
            del lines[i]
        elif action == "shuffle":
            order = rng.permutation(body)
            lines = [lines[j] for j in range(body[0])] + [lines[j] for j in order]
        else:
            lines[i] = "\t".join(lines[i].split("\t")[: int(rng.integers(1, 10))])
        return f"{kind}-{action}", "\n".join(lines).encode()
    if kind == "header":
        header = [i for i, line in enumerate(lines) if line.startswith("#")]
        i = int(rng.choice(header))
        if rng.random() < 0.5:
            del lines[i]
        else:
            lines[i] = lines[i][: int(rng.integers(0, max(1, len(lines[i]))))]
        return kind, "\n".join(lines).encode()
    # non-UTF-8 / binary bytes inside a record or the sample line
    i = int(rng.choice([*body, body[0] - 1]))
    raw = lines[i].encode()
    pos = int(rng.integers(0, len(raw)))
    lines_b = [line.encode() for line in lines]
    lines_b[i] = raw[:pos] + bytes(rng.integers(128, 256, size=3).astype(np.uint8)) + raw[pos:]
    return kind, b"\n".join(lines_b)


def test_a_hundred_and_more_mutated_vcfs_exit_0_or_2_without_a_traceback(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    base = _base()
    rng = np.random.default_rng(2024)
    seen: dict[str, list[int]] = {}
    for case in range(N_CASES):
        kind, data = _mutate(base, rng)
        path = tmp_path / f"case{case}.vcf"
        if case % 8 == 7:  # a bgzip (gzip-compatible) file, truncated
            packed = gzip.compress(data)
            data, path = packed[: int(rng.integers(0, len(packed)))], path.with_suffix(".vcf.gz")
            kind = f"gzip-{kind}"
        path.write_bytes(data)
        caplog.clear()
        code = cli.main(["-q", "sections", "--vcf", str(path), "--window-snps", "8"])
        assert code in (0, 2), (case, kind, caplog.text[-2000:])
        assert "unexpectedly" not in caplog.text, (case, kind, caplog.text[-2000:])
        assert "Traceback" not in caplog.text, (case, kind)
        if code == 2:
            assert caplog.text.strip(), (case, kind, "exit 2 without a message")
        seen.setdefault(kind.split("-")[0], []).append(code)
    assert sum(map(len, seen.values())) >= 100
    assert {"truncate", "flip", "swap", "genotype", "gzip"} <= set(seen)
    codes = [c for cs in seen.values() for c in cs]
    assert 0 in codes and 2 in codes  # some mutations are harmless, some are refused


def test_byte_flips_in_a_bgzip_file_are_refused_or_harmless(tmp_path, caplog, capsys):
    """Flipped bytes in the compressed blocks: an error (zlib, CRC-32), or the same table."""
    from vcf_factory import write_vcf

    hap, _ = structured_haplotypes(n_samples=6, n_variants=24)
    good = write_vcf(tmp_path / "good.vcf.gz", vcf_text(hap))
    argv = ["-q", "sections", "--window-snps", "8", "--vcf"]
    assert cli.main([*argv, str(good)]) == 0
    expected = capsys.readouterr().out
    data = good.read_bytes()
    rng = np.random.default_rng(7)
    codes = []
    for case in range(120):
        buf = bytearray(data)
        for pos in rng.integers(0, len(buf) - 28, size=int(rng.integers(1, 4))):
            buf[pos] = int(rng.integers(0, 256))
        path = tmp_path / f"flip{case}.vcf.gz"
        path.write_bytes(bytes(buf))
        caplog.clear()
        code = cli.main([*argv, str(path)])
        out = capsys.readouterr().out
        assert code in (0, 2) and "unexpectedly" not in caplog.text, (case, caplog.text)
        if code == 0:  # only header fields that do not touch the data (e.g. MTIME) were hit
            assert out == expected, case
        codes.append(code)
    assert codes.count(2) > 100
