"""`vae-genomics evaluate RUN --synthetic X.vcf`: any generator's output scored at the run's sites
against its held-out haplotypes, from the run directory alone; bad files get clear errors."""

import json

import numpy as np
import pandas as pd
import pytest
from vcf_factory import structured_haplotypes, vcf_text, write_vcf

import vae_genomics
from vae_genomics.cli import main
from vae_genomics.commands.evaluate import evaluate_external
from vae_genomics.common.errors import DataError

SECTION = "1_100-5000"


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict:
    """A tiny run (200 samples, 50 SNPs; 80 held-out haplotypes) and its sites."""
    tmp = tmp_path_factory.mktemp("evaluate")
    hap, _ = structured_haplotypes(n_samples=200, n_variants=50, seed=3)
    vcf = write_vcf(tmp / "cohort.vcf", vcf_text(hap))
    config = tmp / "config.yaml"
    config.write_text(
        f"seed: 7\nruns_dir: {tmp / 'runs'}\nsections_dir: {tmp / 'sections'}\n"
        f"data: {{vcf: {vcf}, populations: null, min_maf: 0.0, window_snps: 50}}\n"
        "model: {latent_dim: 3, hidden_units: [32, 16]}\n"
        "training: {epochs: 3, batch_size: 64, patience: 2, jit_compile: false}\n"
        "generation: {privacy: 'off'}\n"  # a toy model: the gate is tested on its own
        "report: {figures: false}\n"  # the page's numbers are enough here
    )
    assert main(["train", "--config", str(config), "--section", SECTION, "--run-name", "r"]) == 0
    run_dir = tmp / "runs" / SECTION / "r"
    sites = pd.read_csv(run_dir / "sites.tsv", sep="\t")
    return {"run": run_dir, "tmp": tmp, "positions": sites["position"].to_numpy()}


def _write(path, haplotypes, positions) -> str:
    return str(write_vcf(path, vcf_text(np.asarray(haplotypes), positions=positions)))


def test_copies_of_the_training_set_are_caught(trained):
    run = vae_genomics.load_run(trained["run"])
    train = run.haplotypes[run.train_rows][:160]
    path = _write(trained["tmp"] / "copies.vcf", train, trained["positions"])
    got = evaluate_external(trained["run"], path)
    assert got["n_haplotypes"] == 160 and got["n_variants"] == 50 and got["n_heldout"] == 80
    assert got["realism"]["set"]["exact_copy_fraction"] == 1.0
    # a copy is its own nearest training neighbour (distance 0): AATS vs train is 0.5 only by ties
    assert got["realism"]["set"]["nn_train"]["q90"] == 0.0
    assert got["verdict"]["verdict"] == "copies-training-data"
    assert got["verdict"]["tripped_by"] in {"exact_copy_fraction", "privacy_loss"}
    assert got["verdict"]["value"] > got["verdict"]["threshold"]
    # the attack on the whole file: the 160 copied members sit at distance 0
    release = got["release"]
    assert release["n_released"] == 160 and release["by_size"][-1]["n"] == 160
    assert release["n_members"] == len(run.train_rows) and release["n_nonmembers"] == 80
    assert release["auc"] > 0.5 + 3 * release["null_sd"]


def test_uniform_noise_is_off_distribution_and_easy_to_tell_apart(trained):
    noise = np.random.default_rng(0).integers(0, 2, size=(80, 50))
    path = _write(trained["tmp"] / "noise.vcf", noise, trained["positions"])
    got = evaluate_external(trained["run"], path)
    # easy to tell apart from real haplotypes: AATS far above the real-vs-real one (-> 1)
    assert got["realism"]["set"]["aats_heldout"] > got["realism"]["ceiling"]["aats_heldout"] + 0.2
    assert got["verdict"]["verdict"] == "off-distribution", got["verdict"]
    assert got["verdict"]["tripped_by"] in {"precision_pca", "precision_hamming"}


def test_cli_round_trip_with_sample_stdout_and_out(trained, tmp_path, capsys):
    out_vcf = tmp_path / "synthetic.vcf.gz"
    assert main(["sample", str(trained["run"]), "--n", "80", "--out", str(out_vcf)]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(trained["run"]), "--synthetic", str(out_vcf)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["n_haplotypes"] == 80 and printed["section"] == SECTION
    assert printed["verdict"]["verdict"] in {"ok", "mode-seeking", "off-distribution",
                                             "copies-training-data", "collapsed"}  # fmt: skip
    for key in ("aats_heldout", "privacy_loss", "ld_decay", "sfs", "pairwise"):
        assert key in printed["realism"]["set"] and key in printed["realism"]["ceiling"]
    scores = tmp_path / "scores.json"
    args = ["evaluate", str(trained["run"]), "--synthetic", str(out_vcf), "--out", str(scores)]
    assert main(args) == 0
    assert json.loads(scores.read_text()) == printed  # seeded: the same numbers twice
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"verdict: {printed['verdict']['verdict']}")
    assert lines[-1] == f"scores:  {scores}"
    # the headline numbers, each beside the ceiling, from the scores written
    s, ms = printed["realism"], printed["modeseek"]
    cov = ms["set"]["prdc_hamming"]["coverage"] / ms["ceiling"]["prdc_hamming"]["coverage"]
    assert f"{cov:.3f} x (Hamming)" in lines[1]
    excess = s["set"]["privacy_loss"] - s["ceiling"]["privacy_loss"]
    assert lines[2].startswith(f"privacy: loss {s['set']['privacy_loss']:.3f}")
    assert f"excess {excess:+.3f})" in lines[2]
    rare = s["set"]["sfs"]["rare"]["total_relative_error"]
    assert rare is not None and f"{100 * rare:+.1f}% pooled" in lines[3]
    # an existing --out (or the scored file itself) is not replaced without --overwrite
    assert main(args) == 2
    assert main([*args, "--overwrite"]) == 0
    same = ["evaluate", str(trained["run"]), "--synthetic", str(out_vcf), "--out", str(out_vcf)]
    assert main([*same, "--overwrite"]) == 2


def test_missing_sites_and_other_alleles_are_clear_errors(trained, caplog):
    run = vae_genomics.load_run(trained["run"])
    x = run.haplotypes[run.validation_rows]
    text = vcf_text(x, positions=trained["positions"])
    lines = text.splitlines(keepends=True)
    body = [i for i, line in enumerate(lines) if not line.startswith("#")]
    missing = write_vcf(
        trained["tmp"] / "missing.vcf", "".join(lines[: body[3]] + lines[body[3] + 1 :])
    )
    with pytest.raises(DataError, match=rf"{trained['positions'][3]}"):
        evaluate_external(trained["run"], missing)
    swapped = lines.copy()
    swapped[body[5]] = swapped[body[5]].replace("\tA\tG\t", "\tA\tT\t", 1)
    other = write_vcf(trained["tmp"] / "other.vcf", "".join(swapped))
    with pytest.raises(DataError, match=r"(?i)allele|ALT"):
        evaluate_external(trained["run"], other)
    assert main(["evaluate", str(trained["run"]), "--synthetic", str(missing)]) == 2
    assert "missing.vcf" in caplog.text and "sites are missing" in caplog.text
    assert "Traceback" not in caplog.text
    assert main(["evaluate", str(trained["run"]), "--synthetic", "nowhere.vcf.gz"]) == 2
    assert "--synthetic nowhere.vcf.gz: VCF/BCF file not found (a relative path" in caplog.text


def test_generator_table_scores_each_generator_beside_the_ceiling(trained):
    """experiments/generator_table.py, which the tables of experiments/notebook/generators.md come from."""
    from experiments.generator_table import score_run

    gens = ["aggregate/calls", "aggregate/ld:4:0.7", "prior/bernoulli"]
    rows = score_run("tiny", trained["run"], gens, seed=0, max_components=2)
    assert [r["generator"] for r in rows] == ["real (ceiling)", *gens]
    assert rows[0]["IW-NLL"] is None
    metrics = json.loads((trained["run"] / "metrics.json").read_text())
    nll = metrics["evaluation"]["iw_nll"]["nll"]
    assert rows[1]["IW-NLL"] == nll == rows[3]["IW-NLL"]
    assert rows[2]["IW-NLL"] != nll  # the ld head's own likelihood
    for row in rows:
        assert 0 <= row["cov PCA"] <= 1 and 0 <= row["cov Ham"] <= 1 and 0 <= row["AATS"] <= 1
    # the same seed gives the same table
    again = score_run("tiny", trained["run"], gens, seed=0, max_components=2)
    assert again == rows


def test_unseen_codes_scores_half_the_heldout_set_against_the_other(trained):
    """experiments/unseen_codes.py: held-out half A, its decoded codes and the default generator,
    scored against the training haplotypes and held-out half B."""
    from experiments.unseen_codes import _halves, score_seed
    from vae_genomics.evaluation.realism import exact_copy_fraction
    from vae_genomics.run.load import load_run

    run = load_run(trained["run"])
    rows = score_seed(run, seed=1)
    assert list(rows) == [
        "real training subset (ceiling)",
        "real A",
        "aggregate:1.5/ld:16:0.7",
        "A's codes S=1",
        "A's codes S=1.5",
    ]
    # the "real A" row is half A itself: its exact copies are A's haplotypes found in training
    x = run.data.matrix.haplotypes
    half_a, half_b = _halves(len(run.val_rows), np.random.default_rng(1))
    assert len(half_a) == 40 and not set(half_a) & set(half_b)
    a = x[run.val_rows][half_a]
    assert rows["real A"][2] == pytest.approx(exact_copy_fraction(a, x[run.train_rows]))
    for aats, loss, copies in rows.values():
        assert 0 <= aats <= 1 and -1 <= loss <= 1 and 0 <= copies <= 1
    assert score_seed(run, seed=1) == rows


def test_synthetic_table_averages_evaluate_outputs_per_section_and_rule(trained, tmp_path):
    """experiments/synthetic_table.py: each rule's evaluate outputs, averaged over seeds."""
    from experiments.synthetic_table import section_row, section_table

    run = vae_genomics.load_run(trained["run"])
    rng = np.random.default_rng(5)
    outputs = []
    for seed in (1, 2):  # two "seeds": training haplotypes with a few alleles flipped
        x = run.haplotypes[run.train_rows][:80].copy()
        flip = rng.random(x.shape) < 0.02
        x[flip] = 1 - x[flip]
        got = evaluate_external(
            trained["run"], _write(tmp_path / f"s{seed}.vcf", x, trained["positions"])
        )
        path = tmp_path / f"t_s{seed}.json"
        path.write_text(json.dumps(got))
        outputs.append(got)
    section, numbers = section_row(tmp_path / "t_s1.json")
    ms = outputs[0]["modeseek"]
    assert section == SECTION
    assert numbers["cov_ham"] == pytest.approx(
        ms["set"]["prdc_hamming"]["coverage"] / ms["ceiling"]["prdc_hamming"]["coverage"]
    )
    assert numbers["sfs"] == outputs[0]["realism"]["set"]["sfs"]["rare"]["total_relative_error"]
    lines = section_table([f"flipped={tmp_path / 't_s*.json'}"])
    assert len(lines) == 4  # header, rule line, the section, the mean over sections
    loss = np.mean(
        [
            o["realism"]["set"]["privacy_loss"] - o["realism"]["ceiling"]["privacy_loss"]
            for o in outputs
        ]
    )
    cells = [cell.strip() for cell in lines[2].split("|")[1:-1]]
    assert cells[:2] == [SECTION, "flipped"] and cells[5] == f"{loss:+.3f}"
    assert cells[8].count(",") == 1  # both seeds' pooled SFS errors


def test_synthetic_table_reads_region_pages(tmp_path):
    from experiments.synthetic_table import CEILING, region_table

    row = {
        "coverage_pca_fraction": 0.97,
        "coverage_hamming_fraction": 0.95,
        "boundary_ld_r_fraction": 0.8,
        "privacy_loss": 0.03,
        "ld_decay_mae": 0.0012,
    }
    page = {
        "summary": {CEILING: row | {"privacy_loss": 0.01}, "mosaic": row},
        "sfs": {CEILING: {"total_relative_error": 0.02}, "mosaic": {"total_relative_error": -0.05}},
    }
    path = tmp_path / "region.json"
    path.write_text(json.dumps(page))
    cells = [c.strip() for c in region_table([str(path)])[2].split("|")[1:-1]]
    assert cells[1:] == ["0.970", "0.950", "0.800", "—", "+0.020", "0.0012", "-5.0%", "+2.0%"]
    row["boundary_ld_r_common_fraction"] = 0.96  # a page with sites rarer than 1%
    path.write_text(json.dumps(page))
    assert "| 0.960 |" in region_table([str(path)])[2]


def test_headline_numbers_leave_out_rare_sites_when_there_are_none():
    from vae_genomics.commands.evaluate import headline_numbers

    def panel(coverage: float, loss: float, rare: float | None) -> tuple[dict, dict]:
        prdc = {"coverage": coverage}
        modeseek = {"prdc_pca": prdc, "prdc_hamming": prdc, "ld": {"pearson_r": 0.9}}
        sfs = {"rare": {"copies": list(range(1, 11)), "total_relative_error": rare}}
        realism = {"privacy_loss": loss, "distance_attack_auc": 0.5, "sfs": sfs}
        return modeseek, realism

    (ms_set, set_), (ms_ceiling, ceiling) = panel(0.9, 0.05, -0.08), panel(1.0, 0.01, 0.02)
    scores = {
        "modeseek": {"set": ms_set, "ceiling": ms_ceiling},
        "realism": {"set": set_, "ceiling": ceiling},
    }
    lines = headline_numbers(scores)
    assert lines[0].startswith("coverage: 0.900 x the ceiling's (PCA), 0.900 x (Hamming)")
    assert "excess +0.040" in lines[1]
    assert lines[2] == (
        "sites at 1-10 copies: -8.0% pooled against the held-out haplotypes (ceiling +2.0%)"
    )
    ceiling["sfs"]["rare"]["total_relative_error"] = None
    assert headline_numbers(scores)[2].endswith("(ceiling n/a)")
    set_["sfs"]["rare"]["total_relative_error"] = None  # no real sites at 1-10 copies
    assert len(headline_numbers(scores)) == 2
