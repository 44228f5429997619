"""The report, index, sample and encode commands end to end on a tiny trained run."""

import json
import math
import re

import numpy as np
import pandas as pd
import pytest
import yaml
from cyvcf2 import VCF
from vcf_factory import structured_haplotypes, vcf_text, write_vcf

from vae_genomics.cli import main
from vae_genomics.evaluation.summary import SET_NAMES

SECTION = "1_5100-12000"  # the tiny cohort's second section: 70 SNPs at 5100, 5200, ..., 12000


def _no_nan(text: str) -> dict:
    def refuse(name: str) -> None:
        raise AssertionError(f"metrics.json holds {name}")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict:
    """The tiny cohort of conftest.py trained once for this module (3 epochs)."""
    tmp = tmp_path_factory.mktemp("report_cli")
    hap, pops = structured_haplotypes(n_samples=40, n_variants=120)
    samples = [f"S{i:03d}" for i in range(40)]
    vcf = write_vcf(tmp / "tiny.vcf", vcf_text(hap, samples=samples))
    popfile = tmp / "pops.tsv"
    popfile.write_text(
        "sample\tpopulation\n" + "".join(f"{s}\tP{p}\n" for s, p in zip(samples, pops, strict=True))
    )
    config = {
        "seed": 7,
        "runs_dir": str(tmp / "runs"),
        "sections_dir": str(tmp / "sections"),
        "data": {"vcf": str(vcf), "populations": str(popfile), "min_maf": 0.0, "window_snps": 50},
        "model": {"latent_dim": 3, "hidden_units": [32, 16]},
        "training": {"jit_compile": False, "epochs": 3, "batch_size": 16, "patience": 2},
        "generation": {"privacy": "off"},  # a toy model: the gate is tested on its own
    }
    (tmp / "config.yaml").write_text(yaml.safe_dump(config))
    args = ["train", "--config", str(tmp / "config.yaml"), "--section", SECTION, "--run-name", "r"]
    assert main(args) == 0
    return {"tmp": tmp, "runs": tmp / "runs", "run": tmp / "runs" / SECTION / "r", "vcf": vcf,
            "haplotypes": hap}  # fmt: skip


@pytest.mark.slow
def test_report_rerun_and_index(trained, capsys, caplog):
    runs, run = trained["runs"], trained["run"]
    metrics = _no_nan((run / "metrics.json").read_text())
    ev = metrics["evaluation"]
    assert (
        set(ev["verdicts"]) == set(SET_NAMES) and ev["worst"]["verdict"] in ev["verdicts"].values()
    )
    assert ev["modeseek"]["settings"]["n_reference"] == 16
    assert set(ev["modeseek"]["sets"]["prior_samples"]["coverage_by_population"]) == {"P0", "P1"}
    assert metrics["active_units"] == ev["latent"]["active_units"]
    page = (run / "report" / "index.html").read_text()
    assert not re.search(r'(src|href)="(?!data:|#|\.\./\.\./\.\./index\.html")', page)
    assert 'href="../../../index.html"' in page  # back to the index across sections
    assert "What to do next" in page and "vae-genomics 0." in page
    assert "Verdicts" in page and "Numbers per set" in page and "History" in page

    # re-drawing recomputes the same numbers (seeded) and keeps what only training knew
    (run / "report" / "ld_heatmaps.png").unlink()
    assert main(["report", str(run)]) == 0
    again = _no_nan((run / "metrics.json").read_text())
    assert again["evaluation"]["modeseek"] == ev["modeseek"]
    assert again["train_seconds"] == metrics["train_seconds"]
    assert (run / "report" / "ld_heatmaps.png").is_file()

    # the index across sections
    capsys.readouterr()
    assert main(["report", "--index", str(runs)]) == 0
    assert f"index:  {runs / 'index.html'}" in capsys.readouterr().out
    index = (runs / "index.html").read_text()
    assert f'href="{SECTION}/r/report/index.html"' in index
    # a section's or a run's directory given as RUNS_DIR: refused, no page left inside it
    for path, kind in ((runs / SECTION, "a section's"), (run, "a run's")):
        assert main(["report", "--index", str(path)]) == 2
        assert f"{path}: {kind} directory, not a runs directory" in caplog.text
        assert f"(here {runs})" in caplog.text and not (path / "index.html").exists()


@pytest.mark.slow
def test_sample_writes_a_phased_vcf_of_the_section(trained, caplog):
    tmp, run = trained["tmp"], trained["run"]
    for sampler in ("prior", "gmm"):
        out = tmp / f"{sampler}.vcf.gz"
        args = ["sample", str(run.parent), "--n", "10", "--sampler", sampler, "--out", str(out)]
        assert main(args) == 0
        vcf = VCF(str(out))
        assert len(vcf.samples) == 5
        records = list(vcf)
        assert [r.POS for r in records] == list(range(5100, 12001, 100))
        assert {(r.CHROM, r.REF, r.ALT[0]) for r in records} == {("1", "A", "G")}
        assert [r.ID for r in records][:2] == ["rs50", "rs51"]
        assert all(r.genotype.array()[:, 2].all() for r in records)  # phased
    seeded = [tmp / f"s{i}.vcf.gz" for i in range(2)]
    for path in seeded:
        assert main(["sample", str(run), "--n", "4", "--seed", "3", "--out", str(path)]) == 0
    gts = [[r.genotype.array().tolist() for r in VCF(str(p))] for p in seeded]
    assert gts[0] == gts[1]
    assert main(["sample", str(run), "--n", "5", "--out", str(tmp / "odd.vcf.gz")]) == 2
    assert "must be even" in caplog.text


@pytest.mark.slow
def test_encode_the_runs_data_or_another_vcf(trained, caplog):
    tmp, run = trained["tmp"], trained["run"]
    # embeddings: the run's own haplotypes, then another VCF at the section's sites
    latent = tmp / "latent.tsv"
    assert main(["encode", str(run), "--out", str(latent)]) == 0
    table = pd.read_csv(latent, sep="\t")
    own = pd.read_csv(run / "latent.tsv", sep="\t")
    assert len(table) == 80 and set(table["split"]) == {"train", "validation"}
    np.testing.assert_allclose(table["mean_1"], own["mean_1"], rtol=1e-4, atol=1e-5)
    # an existing output is refused without --overwrite (and left as it was)
    assert main(["encode", str(run), "--vcf", str(trained["vcf"]), "--out", str(latent)]) == 2
    assert "Pass --overwrite" in caplog.text and len(pd.read_csv(latent, sep="\t")) == 80
    args = ["encode", str(run), "--vcf", str(trained["vcf"]), "--out", str(latent), "--overwrite"]
    assert main(args) == 0
    external = pd.read_csv(latent, sep="\t")
    assert set(external["split"]) == {"external"}
    np.testing.assert_allclose(external["mean_1"], own["mean_1"], rtol=1e-4, atol=1e-5)
    synthetic = tmp / "synthetic.vcf.gz"
    assert main(["sample", str(run), "--n", "10", "--out", str(synthetic)]) == 0
    latent = tmp / "synthetic.tsv"
    assert main(["encode", str(run), "--vcf", str(synthetic), "--out", str(latent)]) == 0
    assert len(pd.read_csv(latent, sep="\t")) == 10

    partial = write_vcf(
        tmp / "partial.vcf",
        vcf_text(trained["haplotypes"][:, :60], positions=np.arange(1, 61) * 100),
    )
    latent = tmp / "partial.tsv"
    assert main(["encode", str(run), "--vcf", str(partial), "--out", str(latent)]) == 2
    assert "60 of the section's 70 sites are missing (e.g. 1:6100 A>G" in caplog.text
    assert not math.isnan(external["sd_1"].min())
