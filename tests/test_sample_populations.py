"""``sample --populations``: a synthetic cohort by ancestry, end to end on a tiny trained run."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from cyvcf2 import VCF
from vcf_factory import structured_haplotypes, vcf_text, write_vcf

import vae_genomics
from vae_genomics.cli import main
from vae_genomics.commands.options import table_path
from vae_genomics.commands.population_request import parse_counts
from vae_genomics.common.errors import DataError
from vae_genomics.evaluation.populations import AncestryClassifier, assignment_rate
from vae_genomics.generate.conditional import group_seed

SECTION = "1_100-5000"  # the first 50 SNPs of the tiny cohort
#: Samples relabelled into a third, tiny population Q (superpopulation A, with P0)
SMALL = ("S000", "S002", "S004")


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict:
    """A two-population cohort (P0, P1; superpopulations A, B; 3 P0 samples relabelled Q, in A)
    trained once for this module."""
    tmp = tmp_path_factory.mktemp("sample_pops")
    hap, pops = structured_haplotypes(n_samples=60, n_variants=100)
    samples = [f"S{i:03d}" for i in range(60)]
    vcf = write_vcf(tmp / "tiny.vcf", vcf_text(hap, samples=samples))
    labels = ["Q" if s in SMALL else f"P{p}" for s, p in zip(samples, pops, strict=True)]
    popfile = tmp / "pops.tsv"
    popfile.write_text(
        "sample\tpopulation\tsuperpopulation\n"
        + "".join(
            f"{s}\t{lab}\t{'B' if lab == 'P1' else 'A'}\n"
            for s, lab in zip(samples, labels, strict=True)
        )
    )
    config = {
        "seed": 7,
        "runs_dir": str(tmp / "runs"),
        "sections_dir": str(tmp / "sections"),
        "data": {"vcf": str(vcf), "populations": str(popfile), "min_maf": 0.0, "window_snps": 50},
        "model": {"latent_dim": 3, "hidden_units": [32, 16]},
        # what a model that has learnt the populations does: on toy cohorts the generator check
        # keeps an early epoch (docs/privacy.md, "The epoch kept"; tested in test_stopping.py)
        "training": {
            "jit_compile": False,
            "epochs": 15,
            "batch_size": 16,
            "patience": 5,
            "select": "elbo",
        },
        "generation": {"privacy": "off"},  # a toy model: the gate is tested on its own
        "report": {"figures": False},  # the sections' figures: not looked at here
    }
    (tmp / "config.yaml").write_text(yaml.safe_dump(config))
    args = ["train", "--config", str(tmp / "config.yaml"), "--section", SECTION, "--run-name", "r"]
    assert main(args) == 0
    run = vae_genomics.load_run(tmp / "runs" / SECTION / "r")
    return {"tmp": tmp, "run_dir": run.path, "run": run}


def test_cli_writes_named_samples_and_a_populations_table(trained, capsys, caplog):
    tmp, run_dir = trained["tmp"], trained["run_dir"]
    out = tmp / "cohort.vcf.gz"
    caplog.set_level(logging.WARNING)
    args = ["sample", str(run_dir), "--populations", "P0:8,B:4", "--out", str(out)]
    assert main(args) == 0
    assert "few templates means near-copies" in caplog.text  # P0 and B have < 50 haplotypes
    vcf = VCF(str(out))
    expected = [f"P0_syn{i:04d}" for i in range(1, 5)] + ["B_syn0001", "B_syn0002"]
    assert vcf.samples == expected
    gts = np.array([v.genotype.array()[:, :2] for v in vcf])  # (sites, samples, 2)
    assert gts.shape == (50, 6, 2) and np.isin(gts, (0, 1)).all()
    assert "populations=P0:8|B:4" in vcf.raw_header
    table = pd.read_csv(table_path(out), sep="\t")
    assert list(table.columns) == ["sample", "population", "superpopulation"]
    assert table["sample"].tolist() == expected
    assert table["population"].tolist() == ["P0"] * 4 + ["B"] * 2
    assert table["superpopulation"].tolist() == ["A"] * 4 + ["B"] * 2
    assert table_path(out).name == "cohort.populations.tsv"
    assert f"table:  {table_path(out)}" in capsys.readouterr().out

    # --individuals counts individuals; --n, when given, must be the sum of haplotypes
    ind = tmp / "ind.vcf.gz"
    args = ["sample", str(run_dir), "--populations", "P1:3,A:2", "--individuals", "--n", "10"]
    assert main([*args, "--out", str(ind)]) == 0
    names = ["P1_syn0001", "P1_syn0002", "P1_syn0003", "A_syn0001", "A_syn0002"]
    assert VCF(str(ind)).samples == names
    assert main([*args[:-1], "12", "--out", str(tmp / "x.vcf.gz")]) == 2
    assert "is not the number of haplotypes --populations asks for (10)" in caplog.text

    # the table is an output: not replaced without --overwrite
    out.unlink()
    out.with_name(out.name + ".tbi").unlink()
    assert main(["sample", str(run_dir), "--populations", "P0:8", "--out", str(out)]) == 2
    assert "cohort.populations.tsv: exists" in caplog.text


def test_without_populations_nothing_changes_and_n_is_required(trained, caplog):
    tmp, run_dir = trained["tmp"], trained["run_dir"]
    out = tmp / "plain.vcf.gz"
    assert main(["sample", str(run_dir), "--n", "6", "--seed", "3", "--out", str(out)]) == 0
    assert VCF(str(out)).samples == ["syn0001", "syn0002", "syn0003"]
    assert not table_path(out).exists()
    assert main(["sample", str(run_dir), "--out", str(tmp / "none.vcf.gz")]) == 2
    assert "give --n" in caplog.text
    assert main(["sample", str(run_dir), "--n", "4", "--individuals", "--out", str(out)]) == 2
    assert "--individuals counts the individuals of --populations" in caplog.text


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        ("XX:10", r"unknown name 'XX'; populations \(training haplotypes\): P0 \(\d+\), P1 \(\d+\), "
                  r"Q \(\d+\); superpopulations: A \(\d+\), B \(\d+\)"),
        ("P0:3", r"P0:3: not an even number of haplotypes"),
        ("P0:0", r"the count of P0 \('0'\) is not a positive whole number of haplotypes"),
        ("P0:-2", r"the count of P0 \('-2'\) is not a positive whole number"),
        ("P0:x", r"the count of P0 \('x'\) is not a positive whole number"),
        ("P0", r"expected NAME:COUNT items separated by commas"),
        ("P0:2,P0:4", r"P0 is named twice"),
        ("Q:4", r"Q has \d training haplotypes, fewer than 10: too few to draw from"),
    ],
)  # fmt: skip
def test_bad_requests_are_data_errors_that_say_why(trained, request_, message):
    with pytest.raises(DataError, match=message):
        trained["run"].sample_populations(request_)


def test_a_bad_request_is_refused_before_tensorflow_starts(trained, region, monkeypatch, caplog):
    """Unknown names, odd counts and too small a group are read off the runs' stored labels: one
    run, a region and admixture sources refuse them without starting TensorFlow."""
    from vae_genomics.commands import options

    def started(*_):
        raise AssertionError("TensorFlow was started")

    monkeypatch.setattr(options, "start_tensorflow", started)
    tmp = trained["tmp"]
    out = str(tmp / "early.vcf.gz")
    region_args = ["sample", "--runs", str(tmp / "runs"), "--sections", ",".join(region["names"])]
    cases = [
        (["sample", str(trained["run_dir"]), "--populations", "XX:4"], "--populations: unknown "
         "name 'XX'; populations (training haplotypes): P0"),
        (["sample", str(trained["run_dir"]), "--populations", "P0:3"], "P0:3: not an even number"),
        (["sample", str(trained["run_dir"]), "--populations", "Q:4"], "Q has 5 training "
         "haplotypes, fewer than 10"),
        ([*region_args, "--populations", "P0:4,XX:2"], "--populations: unknown name 'XX'"),
        ([*region_args, "--admixed", "P0:0.5,XX:0.5", "--n", "4"], "--admixed: unknown name 'XX'"),
    ]  # fmt: skip
    for argv, message in cases:
        caplog.clear()
        assert main([*argv, "--out", out]) == 2, argv
        assert message in caplog.text, caplog.text
    assert not (tmp / "early.vcf.gz").exists()


def test_prior_sampler_and_a_region_without_out_are_refused(trained, caplog):
    with pytest.raises(
        DataError, match="codes from the prior are the same whatever the population"
    ):
        trained["run"].sample_populations({"P0": 4}, sampler="prior")
    args = ["sample", "--runs", str(trained["tmp"] / "runs"), "--populations", "P0:4"]
    assert main(args) == 2
    assert "sample --populations over a region: give --out FILE.vcf.gz" in caplog.text


def test_api_is_the_cli_and_seeds_each_group_by_position(trained, tmp_path):
    run = trained["run"]
    hap, groups = run.sample_populations({"P0": 6, "P1": 4}, seed=5)
    assert hap.shape == (10, 50) and hap.dtype == np.int8
    assert groups.tolist() == ["P0"] * 6 + ["P1"] * 4
    assert np.array_equal(run.sample(10, seed=5, populations="P0:6,P1:4"), hap)
    assert np.array_equal(run.sample(None, seed=5, populations="P0:6,P1:4"), hap)
    # a group's draws depend on the seed and its position only, not on the others' counts
    other, _ = run.sample_populations({"P0": 2, "P1": 4}, seed=5)
    assert np.array_equal(other[2:], hap[6:])
    assert group_seed(5, 1) != group_seed(5, 0) and group_seed(5, 1) == group_seed(5, 1)
    # the CLI writes the API's haplotypes
    out = tmp_path / "c.vcf.gz"
    args = ["sample", str(run.path), "--populations", "P0:6,P1:4", "--seed", "5", "--out", str(out)]
    assert main(args) == 0
    written = np.array([v.genotype.array()[:, :2] for v in VCF(str(out))])  # (sites, samples, 2)
    assert np.array_equal(written.transpose(1, 2, 0).reshape(10, 50), hap)


def test_a_conditioned_sample_is_closer_to_its_population(trained):
    run = trained["run"]
    train = run.haplotypes[run.train_rows]
    labels = run.populations[run.train_rows].astype(str)
    keep = labels != "Q"
    classifier = AncestryClassifier(n_components=4).fit(train[keep], labels[keep])
    plain = run.sample(200, seed=1)
    for pop in ("P0", "P1"):
        conditioned, _ = run.sample_populations({pop: 200}, seed=1)
        rate = assignment_rate(classifier.predict(conditioned), pop)
        baseline = assignment_rate(classifier.predict(plain), pop)
        assert rate > 0.75 and rate > baseline + 0.3, (pop, rate, baseline)


def test_parse_counts_keeps_the_order_and_takes_a_mapping():
    assert list(parse_counts("YRI:10, CEU:4")) == ["YRI", "CEU"]
    assert parse_counts({"AFR": 2}) == {"AFR": 2}
    with pytest.raises(DataError, match="not a positive whole number"):
        parse_counts({"AFR": 2.5})
    assert table_path("x/out.vcf.gz").as_posix() == "x/out.populations.tsv"
    assert table_path("out.vcf").name == "out.populations.tsv"


def test_evaluate_scores_each_population_against_its_real_haplotypes(trained, caplog):
    run_dir, tmp = trained["run_dir"], trained["tmp"]
    out = tmp / "to_score.vcf.gz"
    assert main(["sample", str(run_dir), "--populations", "P0:40,P1:40", "--seed", "3",
                 "--out", str(out)]) == 0  # fmt: skip
    table = table_path(out)

    def scores(labels: Path, name: str) -> dict:
        path = tmp / f"{name}.json"
        argv = ["evaluate", str(run_dir), "--synthetic", str(out), "--populations", str(labels)]
        assert main([*argv, "--out", str(path)]) == 0, caplog.text
        return json.loads(path.read_text())["populations"]

    right = scores(table, "right")
    assert right["level"] == "population" and set(right["groups"]) == {"P0", "P1"}
    for group in right["groups"].values():
        assert group["n_synthetic"] == 40 and group["n_heldout"] > 5
        assert group["classifier"]["synthetic"] > 0.6  # conditioned: mostly assigned to P
        assert group["fst"]["synthetic"] < 0.1
        assert set(group["privacy_loss"]) == {"synthetic", "reference"}
    # the same haplotypes with their labels swapped: each is compared with the other population
    swapped = tmp / "swapped.tsv"
    frame = pd.read_csv(table, sep="\t")
    frame["population"] = frame["population"].map({"P0": "P1", "P1": "P0"})
    frame.to_csv(swapped, sep="\t", index=False)
    wrong = scores(swapped, "wrong")
    for label in ("P0", "P1"):
        assert wrong["groups"][label]["classifier"]["synthetic"] < 0.4
        assert (
            wrong["groups"][label]["fst"]["synthetic"] > right["groups"][label]["fst"]["synthetic"]
        )
    # a sample of the VCF missing from the table, and labels the run does not know
    lines = table.read_text().splitlines()
    partial = tmp / "partial.tsv"
    partial.write_text("\n".join(lines[:-1]) + "\n")
    unknown = tmp / "unknown.tsv"
    frame["population"] = frame["population"].map({"P0": "YRI", "P1": "P0"})
    frame.to_csv(unknown, sep="\t", index=False)
    caplog.set_level(logging.INFO, logger="vae_genomics")
    for labels, message in ((partial, "are not in it"), (unknown, "label the synthetic samples")):
        caplog.clear()
        argv = ["evaluate", str(run_dir), "--synthetic", str(out), "--populations", str(labels)]
        assert main(argv) == 2 and message in caplog.text
        assert "distance attack" not in caplog.text  # refused before anything was scored


@pytest.fixture(scope="module")
def region(trained) -> dict:
    """Both sections of the cohort trained: one region (section names and their sections)."""
    from vae_genomics.config import load_config
    from vae_genomics.data import list_sections

    config = trained["tmp"] / "config.yaml"
    _, sections = list_sections(load_config(config).data, genotypes=False)
    names = [s.name for s in sections]
    for name in names:
        if name != SECTION:
            args = ["train", "--config", str(config), "--section", name, "--run-name", "r"]
            assert main(args) == 0
    return {"names": names, "sections": sections}


def test_a_region_sampled_by_population_names_its_samples_and_writes_their_table(
    trained, region, caplog
):
    """Both sections of the cohort as one region: each population's own mosaic."""
    caplog.set_level(logging.INFO, logger="vae_genomics")
    tmp, names, sections = trained["tmp"], region["names"], region["sections"]
    out = tmp / "region_pops.vcf.gz"
    argv = ["sample", "--runs", str(tmp / "runs"), "--sections", ",".join(names),
            "--populations", "P0:20,P1:10", "--individuals", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    vcf = VCF(str(out))
    assert vcf.samples[:2] == ["P0_syn0001", "P0_syn0002"] and len(vcf.samples) == 30
    assert vcf.samples[-1] == "P1_syn0010"
    assert len(list(vcf)) == sum(s.n_variants for s in sections)  # every site of the region
    table = pd.read_csv(table_path(out), sep="\t")
    assert table["population"].tolist() == ["P0"] * 20 + ["P1"] * 10
    assert "populations=P0:40|P1:20" in VCF(str(out)).raw_header
    assert ",switch_sites=0," in VCF(str(out)).raw_header  # each population's mosaic: latent
    assert "##vae_genomics_sites=<Sites=100,MinMAF=0,MinMAC=0," in VCF(str(out)).raw_header
    # each population scored against its own held-out haplotypes, beside its own ceiling
    scores = json.loads(out.with_name("region_pops.populations.json").read_text())
    assert set(scores) == {"P0", "P1"}
    for row in scores.values():
        assert row["n_validation"] >= 2 and row["n_train"] > row["n_validation"]
        assert 0 <= row["synthetic"]["coverage_pca"] <= 1
        assert row["ceiling"]["boundary_ld_r"] is not None
        assert len(row["boundary_track"]["ratio"]) == 1  # one boundary between the two sections
        # the share a second real sample of the population keeps, as the ceiling's
        assert row["ceiling"]["boundaries_at_target"] in (0.0, 1.0)
    assert caplog.text.count("a second real sample: ") == 2
    assert out.with_name("region_pops.populations.png").read_bytes()[:4] == b"\x89PNG"
    # an unknown name, and a joint model other than the mosaic, are refused
    assert main([*argv[:6], "XX:2", "--out", str(tmp / "x.vcf.gz")]) == 2
    assert main([*argv, "--joint", "chain", "--overwrite"]) == 2


def test_a_region_by_population_switches_on_the_boundary_alleles_when_asked(
    trained, region, caplog
):
    tmp, names = trained["tmp"], region["names"]
    argv = ["sample", "--runs", str(tmp / "runs"), "--sections", ",".join(names),
            "--populations", "P0:20,P1:10", "--neighbours", "4", "--no-report"]  # fmt: skip

    def drawn(*extra: str) -> tuple[np.ndarray, str]:
        out = tmp / f"switch{'_'.join(extra)}.vcf.gz"
        assert main([*argv, *extra, "--out", str(out)]) == 0
        vcf = VCF(str(out))
        header = vcf.raw_header
        return np.array([[a for gt in v.genotypes for a in gt[:2]] for v in vcf]), header

    latent, latent_header = drawn()
    alleles, header = drawn("--switch-sites", "5")
    assert ",switch_sites=0," in latent_header and ",switch_sites=5," in header
    assert latent.shape == alleles.shape and (latent != alleles).any()  # other switches
    assert main([*argv, "--switch-sites", "-1", "--out", str(tmp / "neg.vcf.gz")]) == 2
    assert "switch sites must be >= 0, got -1" in caplog.text


def _real_frequencies(trained) -> dict[str, np.ndarray]:
    """ALT frequency of each population's real haplotypes at every site of the cohort."""
    hap, pops = structured_haplotypes(n_samples=60, n_variants=100)
    rows = np.repeat(pops, 2)
    return {f"P{p}": hap[rows == p].mean(axis=0) for p in (0, 1)}


def test_admixed_haplotypes_follow_their_true_local_ancestry(trained, region):
    """--admixed: tracts at the asked proportions, each tract's alleles from its source."""
    tmp, names = trained["tmp"], region["names"]
    out = tmp / "admixed.vcf.gz"
    argv = ["sample", "--runs", str(tmp / "runs"), "--sections", ",".join(names),
            "--admixed", "P0:0.7,P1:0.3", "--n", "400", "--generations", "10",
            "--recombination-rate", "2e-4", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    vcf = VCF(str(out))
    assert vcf.samples[0] == "admixed_syn0001" and len(vcf.samples) == 200
    genotypes = np.array([[a for gt in v.genotypes for a in gt[:2]] for v in vcf], dtype=np.int8)
    positions = np.array([v.POS for v in VCF(str(out))])
    tracts = pd.read_csv(out.with_name("admixed.ancestry.tsv"), sep="\t")
    summary = json.loads(out.with_name("admixed.admixture.json").read_text())
    table = pd.read_csv(out.with_name("admixed.populations.tsv"), sep="\t")
    assert table["population"].unique().tolist() == ["admixed"] and len(table) == 200
    # the tracts tile every haplotype: their sites add up to all the region's sites
    per_haplotype = tracts.groupby(["sample", "haplotype"])["n_sites"].sum()
    assert len(per_haplotype) == 400 and (per_haplotype == len(positions)).all()
    # asked 0.7/0.3 at about 2 switches per haplotype: shares and tract length near the model
    share = summary["observed"]["site_proportions"]
    assert abs(share[0] - 0.7) < 0.07 and abs(share[1] - 0.3) < 0.07
    expected = summary["expected"]["mean_tract_bp_in_window"]
    assert abs(summary["observed"]["mean_tract_bp"] / expected - 1) < 0.15
    # each site's alleles in P0 tracts look like real P0, those in P1 tracts like real P1
    ancestry = np.zeros((400, len(positions)), dtype=object)
    for row in tracts.itertuples():
        h = 2 * (int(row.sample.rsplit("syn", 1)[1]) - 1) + int(row.haplotype)
        ancestry[h, (positions >= row.start) & (positions < row.end)] = row.ancestry
    real = _real_frequencies(trained)
    for pop, other in (("P0", "P1"), ("P1", "P0")):
        mask = ancestry == pop
        freq = (genotypes.T * mask).sum(axis=0) / np.maximum(mask.sum(axis=0), 1)
        ok = mask.sum(axis=0) >= 20
        own = np.corrcoef(freq[ok], real[pop][ok])[0, 1]
        assert own > 0.8 and own > np.corrcoef(freq[ok], real[other][ok])[0, 1] + 0.2
    assert "admixed=P0:0.7|P1:0.3" in VCF(str(out)).raw_header


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--admixed", "P0:0.7,P1:0.2"], "must sum to 1"),
        (["--admixed", "P0:1"], "(0, 1)"),
        (["--admixed", "P0:0.5,XX:0.5"], "unknown name 'XX'"),
        (["--admixed", "P0:0.5,P1:0.5", "--populations", "P0:2"], "not both"),
        (["--admixed", "P0:0.5;P1:0.5"], "NAME:FRACTION"),
    ],
)
def test_bad_admixture_requests_say_why(trained, region, caplog, extra, message):
    tmp = trained["tmp"]
    argv = ["sample", "--runs", str(tmp / "runs"), "--sections", ",".join(region["names"]),
            "--n", "20", "--out", str(tmp / "bad_admixed.vcf.gz"), *extra]  # fmt: skip
    assert main(argv) == 2
    assert message in caplog.text
    assert not (tmp / "bad_admixed.vcf.gz").exists()
