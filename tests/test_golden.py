"""Golden outputs of a run written by an earlier release (tests/fixtures/run_2026).

The fixture is a finished run of a 40-sample, 60-SNP cohort (no report, no TensorBoard logs),
written by the code before the package was reorganised. Reading it and sampling from it with a
fixed seed must give exactly the genotypes that code wrote (tests/fixtures/golden/): the run
format stays readable, and the decode path stays the same.
"""

from __future__ import annotations

import gzip
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vae_genomics.commands.privacy_gate import PrivacyBudgetError

FIXTURES = Path(__file__).parent / "fixtures"
RUN = FIXTURES / "run_2026"
GOLDEN = FIXTURES / "golden"


@pytest.fixture(scope="module")
def run_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A writable copy of the fixture run (commands must not write into the repository)."""
    target = tmp_path_factory.mktemp("golden") / "run"
    shutil.copytree(RUN, target)
    return target


def _cli(*args: str, cwd: Path, separate: bool = True) -> None:
    """Run the command line: in a fresh ``python -m vae_genomics.cli`` process, or in this one."""
    if not separate:
        from vae_genomics.cli import main

        assert main(list(args)) == 0
        return
    done = subprocess.run(
        [sys.executable, "-m", "vae_genomics.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]


def _genotype_rows(vcf_gz: Path) -> list[str]:
    with gzip.open(vcf_gz, "rt") as handle:
        rows = [line.rstrip("\n").split("\t") for line in handle if not line.startswith("#")]
    return ["\t".join([row[1], *row[9:]]) for row in rows]


def _golden_rows(name: str) -> list[str]:
    return (GOLDEN / name).read_text().rstrip("\n").split("\n")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sampler", "golden"),
    [(None, "sample_default_seed3.tsv"), ("prior", "sample_prior_seed3.tsv")],
)
def test_sample_writes_the_golden_genotypes(
    run_copy: Path, tmp_path: Path, sampler: str | None, golden: str
) -> None:
    out = tmp_path / "synthetic.vcf.gz"
    extra = ["--sampler", sampler] if sampler else []
    extra += [
        "--privacy",
        "off",
    ]  # the genotypes of the sample before budgets (issue: off = today's)
    _cli(
        "sample", str(run_copy), "--n", "20", "--seed", "3", "--out", str(out), *extra, cwd=tmp_path
    )
    assert _genotype_rows(out) == _golden_rows(golden)


@pytest.mark.slow
def test_encode_gives_the_golden_codes(run_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "codes.tsv"
    _cli("encode", str(run_copy), "--out", str(out), cwd=tmp_path, separate=False)
    got = pd.read_csv(out, sep="\t")
    want = pd.read_csv(GOLDEN / "encode.tsv", sep="\t")
    assert list(got.columns) == list(want.columns)
    assert got[["haplotype", "sample", "population", "split"]].equals(
        want[["haplotype", "sample", "population", "split"]]
    )
    numbers = [c for c in want.columns if c.startswith(("mean_", "sd_"))]
    np.testing.assert_allclose(
        got[numbers].to_numpy(), want[numbers].to_numpy(), rtol=1e-5, atol=1e-6
    )  # the TSV keeps 6 significant digits


@pytest.mark.slow
def test_load_run_reads_the_old_run(run_copy: Path) -> None:
    import vae_genomics

    run = vae_genomics.load_run(run_copy)
    assert run.section.name == "1_100-6000"
    assert run.sites["position"].tolist() == list(range(100, 6001, 100))
    # loaded to encode and decode: the optimizer's state stays in the file (memory)
    assert getattr(run.model, "optimizer", None) is None
    codes = pd.read_csv(GOLDEN / "encode.tsv", sep="\t").set_index("haplotype")
    means, _ = run.encode(run.haplotypes)
    want = codes.loc[run.haplotype_ids, [f"mean_{j + 1}" for j in range(run.latent_dim)]]
    np.testing.assert_allclose(
        means, want.to_numpy(), rtol=1e-5, atol=1e-6
    )  # the TSV keeps 6 significant digits
    rows = [line.split("\t") for line in _golden_rows("sample_default_seed3.tsv")]
    calls = np.array([[int(a) for g in row[1:] for a in g.split("|")] for row in rows]).T
    np.testing.assert_array_equal(run.sample(20, seed=3, privacy="off"), calls)
    with pytest.raises(PrivacyBudgetError, match="do not meet"):  # a loss of 0.144 vs 0.0
        run.sample(20, seed=3, privacy="standard")
