"""Whole-region sampling end to end: three sections of a cohort with LD across their boundaries."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml
from vcf_factory import vcf_text, write_indexed

from vae_genomics.cli import main
from vae_genomics.evaluation.boundary_ld import boundary_ld, boundary_pairs, boundary_r2
from vae_genomics.generate.context import ContextHead
from vae_genomics.generate.region import (
    LazyRegionLogits,
    RowsView,
    fit_region_head,
    fit_region_model,
    iter_region,
    region_logits,
    sample_region,
    training_codes,
)
from vae_genomics.run.region import load_region

N_SAMPLES, SNPS_PER_SECTION, N_SECTIONS, STEP = 150, 30, 3, 100
SECTIONS = ["s1", "s2", "s3"]


def founder_cohort_founders(seed: int = 0) -> np.ndarray:
    """The 4 founders of :func:`founder_cohort`, shape (4, n_sites)."""
    rng = np.random.default_rng(seed)
    founders = rng.integers(0, 2, size=(4, SNPS_PER_SECTION * N_SECTIONS))
    founders[:, founders.sum(axis=0) % 4 == 0] ^= np.array([1, 0, 0, 0])[:, None]
    return founders


def founder_cohort(seed: int = 0) -> np.ndarray:
    """Haplotypes copied from 4 founders over the whole region (1% of alleles flipped).

    Every haplotype follows one founder across all sections, so sites on either side of a
    boundary are in strong LD (r² near 1 between sites that split the founders alike).
    """
    rng = np.random.default_rng(seed)
    n_sites = SNPS_PER_SECTION * N_SECTIONS
    founders = rng.integers(0, 2, size=(4, n_sites))
    founders[:, founders.sum(axis=0) % 4 == 0] ^= np.array([1, 0, 0, 0])[:, None]  # polymorphic
    which = rng.choice(4, size=2 * N_SAMPLES, p=[0.4, 0.3, 0.2, 0.1])
    hap = founders[which] ^ (rng.random((2 * N_SAMPLES, n_sites)) < 0.01)
    return hap.astype(np.int8)


@pytest.fixture(scope="module")
def region_runs(tmp_path_factory) -> dict:
    """Three BED sections trained tiny (shared by every test of this module)."""
    root = tmp_path_factory.mktemp("region")
    hap = founder_cohort()
    vcf = write_indexed(root / "cohort.vcf.gz", vcf_text(hap))
    width = SNPS_PER_SECTION * STEP
    bed = root / "sections.bed"
    bed.write_text("".join(f"1\t{k * width}\t{(k + 1) * width}\t{name}\n"
                           for k, name in enumerate(SECTIONS)))  # fmt: skip
    config = {
        "seed": 3,
        "runs_dir": str(root / "runs"),
        "sections_dir": str(root / "sections"),
        "data": {"vcf": str(vcf), "populations": None, "min_maf": 0.0, "sections": "bed",
                 "bed": str(bed)},
        "model": {"latent_dim": 2, "hidden_units": [32, 16]},
        # models that have learnt the sections' LD: on toy cohorts the generator check keeps an
        # early epoch (docs/privacy.md, "The epoch kept"; tested in test_stopping.py)
        "training": {"jit_compile": False, "epochs": 40, "batch_size": 32, "patience": 40,
                     "select": "elbo"},
        "report": {"dpi": 50, "n_components": 2, "ld_window": 20, "figures": False},
        "evaluation": {"iw_samples": 4, "elbo_samples": 2},
        "generation": {"privacy": "off"},  # toy models: the gate is tested on its own
    }  # fmt: skip
    path = root / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    for name in SECTIONS:
        assert main(["train", "--config", str(path), "--section", name, "--run-name", "r"]) == 0
    return {"root": root, "runs": root / "runs", "config": path, "haplotypes": hap}


@pytest.mark.slow
def test_joint_sampling_keeps_boundary_ld_that_independent_sampling_loses(region_runs):
    region = load_region(region_runs["runs"], names=SECTIONS)
    assert region.section_names == SECTIONS
    assert region.haplotypes.shape == (2 * N_SAMPLES, SNPS_PER_SECTION * N_SECTIONS)
    np.testing.assert_array_equal(region.haplotypes, region_runs["haplotypes"])
    x_val = region.haplotypes[region.val_rows]
    # per-site draws: linkage across a boundary can only come from the codes
    sets = {
        kind: sample_region(
            region, fit_region_model(region, kind, "means"), 400, seed=1, decoder="temperature:0.5"
        )
        for kind in ("mosaic", "chain", "joint", "independent")
    }
    ld = boundary_ld(x_val, sets, region.positions, region.offsets)
    assert ld["reference"]["mean_r2"] > 0.3  # the cohort has strong LD across boundaries
    independent = ld["sets"]["independent"]
    assert independent["mean_r2"] < 0.05 and abs(independent["boundary_ld_r"]) < 0.3
    for kind in ("mosaic", "chain", "joint"):
        stats = ld["sets"][kind]
        assert stats["boundary_ld_r"] > 0.8, (kind, stats)
        assert stats["mean_r2"] > 0.5 * ld["reference"]["mean_r2"], (kind, stats)


@pytest.mark.slow
def test_a_region_holds_its_haplotypes_once_and_each_section_sees_its_block(region_runs):
    region = load_region(region_runs["runs"], names=SECTIONS)
    stored = [np.load(run.run_dir / "haplotypes.npz") for run in region.sections]
    for k, (run, z) in enumerate(zip(region.sections, stored, strict=True)):
        block = run.data.matrix.haplotypes
        assert np.shares_memory(block, region.haplotypes)  # a view, not a second copy
        expected = np.unpackbits(z["haplotypes_packed"], axis=1, count=int(z["shape"][1]))
        np.testing.assert_array_equal(block, expected)
        np.testing.assert_array_equal(
            region.haplotypes[:, region.offsets[k] : region.offsets[k + 1]], expected
        )


@pytest.mark.slow
def test_the_heads_logits_are_decoded_a_section_at_a_time_and_match_the_whole(region_runs):
    region = load_region(region_runs["runs"], names=SECTIONS)
    codes = training_codes(region, "samples", seed=0)
    whole = region_logits(region, codes)
    lazy = LazyRegionLogits(region, codes)
    assert lazy.shape == whole.shape
    # chunks inside one section, across a boundary, across all three, and an empty one
    for start, stop in [(0, 7), (25, 35), (5, 90), (30, 60), (89, 90), (40, 40)]:
        np.testing.assert_array_equal(lazy[:, start:stop], whole[:, start:stop])
        assert len(lazy._held) <= 2  # at most the chunk's section and the one before it
    with pytest.raises(TypeError, match=r"\[:, start:stop\]"):
        lazy[0, 1:3]
    rows = RowsView(region.haplotypes, region.train_rows)  # the head's training rows, uncopied
    assert rows.shape == (len(region.train_rows), whole.shape[1])
    np.testing.assert_array_equal(rows[:, 25:35], region.haplotypes[region.train_rows, 25:35])
    with pytest.raises(TypeError, match=r"\[:, start:stop\]"):
        rows[:5, 1:3]
    fitted = fit_region_head(region, "ld:4:0.7", seed=0)
    eager = ContextHead(order=4).fit(whole, region.haplotypes[region.train_rows])
    np.testing.assert_array_equal(fitted.weights, eager.weights)


@pytest.mark.slow
def test_grouped_mosaic_switches_only_within_each_training_haplotypes_group(region_runs):
    # founders 0, 1 against 2, 3 as two "populations"; free switches cross between them
    region = load_region(region_runs["runs"], names=SECTIONS)
    founders = founder_cohort_founders()
    x_train = region.haplotypes[region.train_rows]
    nearest = np.argmin((x_train[:, None, :] != founders[None]).sum(axis=2), axis=1)
    labels = np.where(nearest < 2, "A", "B")

    def crossing(groups: np.ndarray | None) -> float:
        mosaic = fit_region_model(region, "mosaic", groups=groups, neighbours=60).mosaic_
        widths = np.full(len(labels), 60) if mosaic.widths_ is None else mosaic.widths_
        valid = np.arange(60)[None, :] < widths[:, None]
        return float(np.mean([
            (labels[table[:, :60]] != labels[:, None])[valid].mean() for table in mosaic.table_
        ]))  # fmt: skip

    assert crossing(None) > 0.01
    assert crossing(labels) == 0.0
    # and the region drawn from it keeps its size and the training haplotypes' values
    model = fit_region_model(region, "mosaic", groups=labels)
    x = sample_region(region, model, 40, seed=2, decoder="calls")
    assert x.shape == (40, region.haplotypes.shape[1]) and set(np.unique(x)) <= {0, 1}


@pytest.mark.slow
def test_a_written_section_is_released_before_the_next_is_drawn(region_runs, tmp_path):
    import weakref

    from vae_genomics.data.export import write_haplotype_vcf

    region = load_region(region_runs["runs"], names=SECTIONS)
    model = fit_region_model(region, "mosaic")
    fitted = fit_region_head(region, "ld:4:0.7", seed=0)
    written, checks = [], []

    class Watching(ContextHead):
        """The fitted head, noting at each later section's draw what is still held."""

        def sample(self, logits, rng, temperature=1.0, offset=0, context=None):
            if offset > 0:
                checks.append((
                    [ref() is None for ref in written],  # every block written before
                    context.base is None or context.base.nbytes == context.size,  # K sites
                ))  # fmt: skip
            return super().sample(logits, rng, temperature, offset, context)

    head = Watching(order=4, weights=fitted.weights)

    def drawn():
        for block in iter_region(region, model, 40, seed=1, decoder="ld:4:0.7", head=head):
            written.append(weakref.ref(block))
            yield block
            del block

    out = tmp_path / "r.vcf.gz"
    write_haplotype_vcf(out, drawn(), region.contig, region.positions, region.ref, region.alt,
                        n_haplotypes=40)  # fmt: skip
    assert len(checks) == 2 and all(all(gone) and small for gone, small in checks), checks
    # and the VCF holds exactly the region's draw
    whole = sample_region(region, model, 40, seed=1, decoder="ld:4:0.7", head=fitted)
    from cyvcf2 import VCF

    gts = np.array([r.genotype.array()[:, :2] for r in VCF(str(out))]).reshape(len(whole[0]), -1)
    np.testing.assert_array_equal(gts.T, whole)


@pytest.mark.slow
@pytest.mark.parametrize("decoder", ["ld:4:0.7", "bernoulli"])
def test_the_draw_does_not_depend_on_the_haplotypes_decoded_at_once(region_runs, decoder):
    # the blocks only bound memory: the same seed draws the same haplotypes in any block size
    region = load_region(region_runs["runs"], names=SECTIONS)
    model = fit_region_model(region, "mosaic")
    head = fit_region_head(region, decoder, seed=0)
    whole = list(iter_region(region, model, 40, seed=1, decoder=decoder, head=head))
    small = list(iter_region(region, model, 40, seed=1, decoder=decoder, head=head, block=6))
    for a, b in zip(whole, small, strict=True):
        np.testing.assert_array_equal(a, b)
    # --populations decodes each group over the whole region a block of haplotypes at a time
    from vae_genomics.data.packed import PackedHaplotypes
    from vae_genomics.generate.region import decode_region
    from vae_genomics.generate.region_groups import decode_region_blocks, sample_region_groups

    codes = model.sample(40, np.random.default_rng(5))
    whole = decode_region(region, codes, np.random.default_rng(6), decoder, head)
    for block in (6, None):
        packed = decode_region_blocks(region, codes, np.random.default_rng(6), decoder, head, block)
        assert packed.nbytes == 40 * ((whole.shape[1] + 7) // 8)
        np.testing.assert_array_equal(np.asarray(packed), whole)
    half = len(region.train_rows) // 2
    groups = {"a": np.arange(half), "b": np.arange(half, len(region.train_rows))}
    counts = {"a": 10, "b": 6}
    arrays = sample_region_groups(region, groups, counts, 3, decoder)
    bits = sample_region_groups(region, groups, counts, 3, decoder, packed=True)
    every = PackedHaplotypes(16, region.haplotypes.shape[1])  # both groups, one after the other
    views = sample_region_groups(region, groups, counts, 3, decoder, packed=True, out=every)
    for name in counts:
        np.testing.assert_array_equal(np.asarray(bits[name]), arrays[name])
        assert np.shares_memory(views[name].bits, every.bits)
    np.testing.assert_array_equal(np.asarray(every), np.concatenate([arrays["a"], arrays["b"]]))
    with pytest.raises(ValueError, match="takes the packed draw of all 16"):
        sample_region_groups(
            region, groups, counts, 3, decoder, packed=True, out=every.row_view(0, 9)
        )


@pytest.mark.slow
def test_ld_head_spans_the_region_and_its_context_crosses_boundaries(region_runs):
    region = load_region(region_runs["runs"], names=SECTIONS)
    n_sites = region.haplotypes.shape[1]
    head = fit_region_head(region, "ld:4:0.7", seed=0)
    assert head is not None and head.weights.shape == (n_sites, 6)
    assert np.all(np.isfinite(head.weights))
    assert fit_region_head(region, "calls") is None
    # a head whose first site of each later section copies the site before it, ignoring its
    # section's code: the copy must reach across the boundary
    first = region.offsets[1:-1]
    copy = ContextHead(order=4)
    copy.weights = np.tile([1.0, 0.0, 0.0, 0.0, 0.0, 0.0], (n_sites, 1))
    copy.weights[first] = [0.0, 40.0, 0.0, 0.0, 0.0, -20.0]
    model = fit_region_model(region, "independent", "means")
    x = sample_region(region, model, 300, seed=1, decoder="ld:4", head=copy)
    np.testing.assert_array_equal(x[:, first], x[:, first - 1])
    plain = sample_region(region, model, 300, seed=1, decoder="temperature:0.7")
    assert (plain[:, first] != plain[:, first - 1]).any()
    # without a head, the ld rule fits the region's own
    own = sample_region(region, model, 50, seed=1, decoder="ld:4:0.7")
    assert own.shape == (50, n_sites) and set(np.unique(own)) <= {0, 1}


def test_boundary_pairs_and_r2_match_a_direct_computation(rng):
    x = rng.integers(0, 2, size=(50, 7))
    positions = np.array([10, 20, 30, 40, 100, 130, 70_000])
    pairs = boundary_pairs(positions, [0, 3, 5, 7], max_distance=100)
    r2 = boundary_r2(x, pairs)
    # pairs within 100 bp across a boundary, once each (by the section of their left site);
    # (2, 5) crosses both boundaries; (0, 5) and (1, 5) are too far apart, (5, 6) in one section
    within = [(0, 3), (0, 4), (1, 3), (1, 4), (2, 3), (2, 4), (2, 5), (3, 5), (4, 5)]
    expected = [np.corrcoef(x[:, i], x[:, j])[0, 1] ** 2 for i, j in within]
    np.testing.assert_allclose(r2, expected)


@pytest.mark.slow
def test_cli_writes_a_valid_indexed_region_vcf_and_page(region_runs, tmp_path):
    from cyvcf2 import VCF

    out = tmp_path / "reg" / "region.vcf.gz"
    args = ["sample", "--runs", str(region_runs["runs"]), "--region", "1:1-9000", "--n", "60",
            "--seed", "5", "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    assert Path(f"{out}.tbi").is_file()
    reader = VCF(str(out))
    assert len(reader.samples) == 30
    records = list(reader)
    positions = [r.POS for r in records]
    assert positions == sorted(set(positions))  # sorted, one record per site
    assert positions == list(np.arange(1, 91) * STEP)  # every site of the three sections
    gts = np.array([r.genotype.array()[:, :2] for r in records])
    assert np.all(np.array([r.genotype.array()[:, 2] for r in records]) == 1)  # phased
    assert set(np.unique(gts)) <= {0, 1}
    assert len(list(VCF(str(out))("1:1001-2000"))) == 10  # the index answers region queries
    # the file says which sites it carries and why the others are absent
    assert "##vae_genomics_sites=<Sites=90,MinMAF=" in reader.raw_header
    assert "rarer variants were not modelled" in reader.raw_header
    metrics = json.loads((out.parent / "region.json").read_text())
    assert metrics["region"]["sections"] == SECTIONS
    assert metrics["region"]["boundaries"] == [3100, 6100]
    assert set(metrics["summary"]) == {
        "real training (ceiling)",
        "mosaic",
        "chain",
        "joint",
        "independent",
    }
    html = (out.parent / "region.html").read_text()  # named after the VCF outside runs/regions
    # every site has a MAF >= 1% among these held-out haplotypes: no second boundary LD number
    assert metrics["boundary_ld_common"] is None
    assert "boundary_ld_r_common" not in metrics["summary"]["mosaic"]
    assert "boundary LD r, sites with MAF ≥ 1%" not in html
    assert "LD across section boundaries" in html and "data:image/png;base64," in html
    assert not re.search(r"src=[\"'](?!data:)", html)  # self-contained: figures inline
    # along the region: each boundary's LD ratio (a dot linking its table row), the sections'
    # verdict track linking their reports, and the SFS at 1..10 copies of every set
    assert "Along the region" in html and html.count("<circle") <= 2
    assert all(f"id='b-{i}'" in html for i in range(2))
    track = metrics["boundary_track"]["sets"]["mosaic"]
    assert len(track["ratio"]) == 2 and set(track["worst"]) <= {0, 1}
    # beside it, a second real sample's share: the ceiling's row of the table
    second = metrics["boundary_track"]["reference"]
    assert len(second["ratio"]) == 2 and 0 <= second["at_target"] <= 1
    ceiling_row = metrics["summary"]["real training (ceiling)"]
    assert ceiling_row["boundaries_at_target"] == second["at_target"]
    assert "A second sample of real training haplotypes, as large, keeps it at" in html
    assert "second real sample ÷ ceiling" in html
    for link in re.findall(r'<a href="([^"#]+/report/index.html)">', html):
        assert (out.parent / link).is_file()
    assert len(re.findall(r'<a href="[^"#]+/report/index.html">', html)) >= 3
    sfs = metrics["sfs"]["mosaic"]
    assert sfs["copies"][0] == 1 and len(sfs["real"]) == len(sfs["synthetic"]) <= 10
    assert "Rare variants: site frequency spectrum" in html
    # LD decay over the whole region (every pair, not only across boundaries), and the PCA's
    # sites: all 90 here (fewer than the thinning's cap)
    assert "Mean r² of site pairs by distance over the whole region" in html
    assert html.count("data:image/png;base64,") >= 2
    assert metrics["panel"]["settings"]["pca_sites"] == 90
    assert "a PCA of 90 of the region" in html
    summary = metrics["summary"]["chain"]
    assert 0 <= summary["privacy_loss"] + 1 <= 2 and 0 <= summary["aats"] <= 1
    assert 0 <= summary["boundaries_at_target"] <= 1
    assert summary["coverage_pca_fraction"] is not None
    # no populations table: nothing to keep the mosaic's switches within
    assert metrics["sampling"]["mosaic_groups"] == "superpopulation"
    assert metrics["sampling"]["groups"] is None
    assert metrics["sampling"]["switch_sites"] == 60  # the alleles before each boundary
    # seeded: the same seed gives the same VCF body (and free switches are the same draws)
    again = tmp_path / "again.vcf.gz"
    assert main([*args[:-1], str(again), "--no-report", "--mosaic-groups", "none"]) == 0
    assert [r.genotypes for r in VCF(str(again))] == [r.genotypes for r in records]
    latent = tmp_path / "latent.vcf.gz"  # switches chosen in the latent space: other draws
    assert main([*args[:-1], str(latent), "--no-report", "--switch-sites", "0"]) == 0
    assert [r.genotypes for r in VCF(str(latent))] != [r.genotypes for r in records]
    assert not (again.parent / "index.html").exists()
    # an existing VCF is never replaced without --overwrite
    before = again.read_bytes()
    assert main([*args[:-1], str(again), "--no-report", "--seed", "6"]) == 2
    assert again.read_bytes() == before
    assert main([*args[:-1], str(again), "--no-report", "--seed", "6", "--overwrite"]) == 0
    assert [r.genotypes for r in VCF(str(again))] != [r.genotypes for r in records]
    # killed between the new VCF and its page: no page is left that describes the old sample
    import vae_genomics.commands.sample_region as sample_region

    def killed(*args, **kwargs):
        raise KeyboardInterrupt("signal 9")

    page, numbers = out.parent / "region.html", out.parent / "region.json"
    assert page.is_file() and numbers.is_file()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sample_region, "_write_report", killed)
        assert main([*args, "--seed", "7", "--overwrite"]) == 130
    assert out.is_file() and not page.exists() and not numbers.exists()


@pytest.mark.slow
def test_region_sample_never_writes_over_the_cohort_vcf(region_runs, caplog):
    vcf = region_runs["root"] / "cohort.vcf.gz"
    before = vcf.read_bytes()
    args = ["sample", "--runs", str(region_runs["runs"]), "--region", "1:1-9000", "--n", "4",
            "--no-report", "--out", str(vcf), "--overwrite"]  # fmt: skip
    assert main(args) == 2
    assert "input of this command" in caplog.text and vcf.read_bytes() == before


def test_a_region_on_no_trained_contig_or_beside_every_section_says_which(region_runs, caplog):
    """A typo in the range (read as a contig's name) names the contigs there are; a range that
    misses every section lists the sections."""
    base = ["sample", "--runs", str(region_runs["runs"]), "--n", "4", "--no-report"]
    assert main([*base, "--region", "1:1-9x000"]) == 2
    assert (
        "region 1:1-9x000: no trained section is on a contig named '1:1-9x000' (the trained "
        "sections' contigs: 1); a region is contig:start-end" in caplog.text
    )
    caplog.clear()
    assert main([*base, "--region", "1:900000-900100"]) == 2
    assert "region 1:900000-900100: no trained section overlaps it; trained sections: s1 (1:" in (
        caplog.text
    )


def test_region_in_the_runs_directory_is_linked_from_the_index(region_runs, tmp_path):
    runs = tmp_path / "runs"
    shutil.copytree(region_runs["runs"], runs, symlinks=True)
    assert main(["sample", "--runs", str(runs), "--sections", "s1,s2", "--n", "40"]) == 0
    page = runs / "regions" / "1_100-6000" / "index.html"
    assert page.is_file() and (page.parent / "1_100-6000.vcf.gz.tbi").is_file()
    assert "href='../../index.html'" in page.read_text()
    assert main(["report", "--index", str(runs), "--config", str(region_runs["config"])]) == 0
    index = (runs / "index.html").read_text()
    assert 'href="regions/1_100-6000/index.html"' in index and "Regions" in index


@pytest.mark.slow
def test_region_refuses_sections_with_another_split(region_runs, tmp_path, caplog, capsys):
    runs = tmp_path / "runs"
    shutil.copytree(region_runs["runs"], runs, symlinks=True)
    split_path = runs / "s2" / "r" / "split.json"
    split = json.loads(split_path.read_text())
    moved = split["validation"].pop()
    split["train"].append(moved)
    split["validation"].append(split["train"].pop(0))
    split_path.write_text(json.dumps(split))
    assert main(["sample", "--runs", str(runs), "--n", "10", "--no-report"]) == 2
    assert not (runs / "regions").exists()
    assert "sections s1 and s2 hold out different haplotypes (2 differ" in caplog.text
    caplog.clear()
    assert main(["sample", "--runs", str(runs), "--sections", "s1,s9", "--n", "10"]) == 2
    assert "no finished run for section(s) s9" in caplog.text
    caplog.clear()
    assert main(["sample", "--runs", str(runs), "--sections", "s1,s3", "--n", "10"]) == 2
    assert "sections s1 and s3 leave a gap (3001-6000)" in caplog.text
    for option, message in [
        (["--decoder", "nope"], "unknown decoder 'nope'"),
        (["--out", "-"], "a region is written to a file"),
    ]:
        caplog.clear()
        assert main(["sample", "--runs", str(runs), "--n", "10", *option]) == 2
        assert message in caplog.text
    for option in ("--components", "--neighbours"):  # refused by the parser itself
        with pytest.raises(SystemExit) as stop:
            main(["sample", "--runs", str(runs), "--n", "10", option, "0"])
        assert stop.value.code == 2
        assert f"{option}: expected a whole number of at least 1, got 0" in capsys.readouterr().err


@pytest.mark.slow
def test_unseen_codes_over_a_region_scores_half_a_against_half_b(region_runs):
    """experiments/unseen_codes.py --region: held-out half A, its codes in every section decoded by
    the region's head, and the default mosaic, scored against training and half B."""
    from experiments.unseen_codes import _halves, score_region_seed
    from vae_genomics.evaluation.realism import exact_copy_fraction

    region = load_region(region_runs["runs"], names=SECTIONS)
    rows = score_region_seed(region, seed=2)
    assert list(rows) == [
        "real training subset (ceiling)",
        "real A",
        "mosaic (default)",
        "A's codes S=1",
        "A's codes S=1.5",
    ]
    half_a, _ = _halves(len(region.val_rows), np.random.default_rng(2))
    x = region.haplotypes
    a = x[region.val_rows][half_a]
    assert rows["real A"][2] == pytest.approx(exact_copy_fraction(a, x[region.train_rows]))
    for aats, loss, copies in rows.values():
        assert 0 <= aats <= 1 and -1 <= loss <= 1 and 0 <= copies <= 1


def test_boundary_track_divides_by_the_ceiling_at_each_boundary():
    from vae_genomics.evaluation.boundary_ld import CEILING, boundary_track

    ld = {"sets": {CEILING: {"boundary_ld_r_by_boundary": [0.8, 0.5, None, 0.4, 0.0]},
                   "m": {"boundary_ld_r_by_boundary": [0.8, 0.4, 0.3, 0.1, 0.2]}}}  # fmt: skip
    track = boundary_track(ld, target=0.9)
    m = track["sets"]["m"]
    assert m["ratio"] == pytest.approx([1.0, 0.8, None, 0.25, None], nan_ok=True)
    assert m["at_target"] == pytest.approx(1 / 3) and m["worst"] == [3, 1, 0]
    assert CEILING not in track["sets"]


def test_a_second_real_sample_identical_to_the_ceiling_keeps_every_boundary():
    from vae_genomics.evaluation.boundary_ld import second_sample_track

    rng = np.random.default_rng(3)
    n, m = 60, 30
    half = (rng.random((n, m)) < 0.3).astype(np.int8)
    half[:, 10:20] = half[:, 5:15]  # linkage across the boundaries at 10 and 20
    x_val = (rng.random((n, m)) < 0.3).astype(np.int8)
    x_val[:, 10:20] = x_val[:, 5:15]
    positions, offsets = np.arange(m) * 100 + 1, [0, 10, 20, 30]
    # the rows outside the ceiling's are a copy of it: the second sample is the ceiling's sample
    twice = np.concatenate([half, half])
    ref = second_sample_track(x_val, twice, np.arange(n), positions, offsets, 50_000, seed=0)
    assert ref["ratio"] == pytest.approx([1.0, 1.0]) and ref["at_target"] == 1.0
    # another sample differs; too few training rows for a second sample: None
    other = np.concatenate([half, (rng.random((n, m)) < 0.3).astype(np.int8)])
    ref = second_sample_track(x_val, other, np.arange(n), positions, offsets, 50_000, seed=0)
    assert ref["ratio"] != pytest.approx([1.0, 1.0])
    assert (
        second_sample_track(x_val, twice[: n + 5], np.arange(n), positions, offsets, 50_000, 0)
        is None
    )


def test_sfs_panel_of_a_copy_is_exact_and_of_a_shuffle_is_not():
    from vae_genomics.evaluation.region import sfs_panel

    rng = np.random.default_rng(0)
    x = (rng.random((60, 300)) < rng.beta(0.2, 2, size=300)).astype(np.int8)
    flat = (rng.random((60, 300)) < 0.5).astype(np.int8)  # common sites only: no rare bins
    panel = sfs_panel(x, {"copy": x.copy(), "flat": flat})
    assert panel["copy"]["max_abs_relative_error"] == pytest.approx(0.0, abs=1e-9)
    assert panel["flat"]["max_abs_relative_error"] > 0.9


def test_boundary_ld_of_the_common_sites_is_that_of_their_columns_and_absent_without_rare_ones():
    from vae_genomics.evaluation.boundary_ld import CEILING, common_boundary_ld

    rng = np.random.default_rng(4)
    n, m = 200, 30
    x_val = (rng.random((n, m)) < 0.3).astype(np.int8)
    x_val[:, 10:20] = x_val[:, 5:15]  # linkage across the boundaries at 10 and 20
    sets = {CEILING: (rng.random((n, m)) < 0.3).astype(np.int8), "s": x_val[::-1].copy()}
    positions, offsets = np.arange(m) * 100 + 1, [0, 10, 20, 30]
    assert common_boundary_ld(x_val, sets, positions, offsets) is None  # every site common
    rare = [2, 9, 12, 25]
    x_val[:, rare] = 0
    x_val[0, rare] = 1  # one copy in 200: MAF 0.005
    keep = np.setdiff1d(np.arange(m), rare)
    got = common_boundary_ld(x_val, sets, positions, offsets)
    want = boundary_ld(x_val[:, keep], {k: x[:, keep] for k, x in sets.items()}, positions[keep],
                       [0, 8, 17, 26])  # fmt: skip
    assert got["n_sites"] == m - len(rare) and got["min_maf"] == 0.01
    assert (
        got["n_pairs"] == want["n_pairs"] < boundary_ld(x_val, sets, positions, offsets)["n_pairs"]
    )
    for name in sets:
        assert got["sets"][name]["boundary_ld_r_by_boundary"] == pytest.approx(
            want["sets"][name]["boundary_ld_r_by_boundary"]
        )
    assert got["sets"]["s"]["boundary_ld_r"] == pytest.approx(1.0)  # the held-out rows reversed


def test_the_page_shows_the_common_sites_boundary_ld_beside_all_sites_when_it_exists():
    from vae_genomics.evaluation.boundary_ld import CEILING
    from vae_genomics.report.region_page import _summary_table

    def row(r, common=None):
        out = {"boundary_ld_r": r, "boundary_ld_r_fraction": r / 0.8, "mean_boundary_r2": 0.1,
               "coverage_pca": 0.9, "coverage_pca_fraction": 1.0, "coverage_hamming": 0.9,
               "coverage_hamming_fraction": 1.0}  # fmt: skip
        if common is not None:
            out |= {"boundary_ld_r_common": common, "boundary_ld_r_common_fraction": common / 0.9}
        return out

    plain = _summary_table({"summary": {CEILING: row(0.8), "mosaic": row(0.4)}})
    assert "sites with MAF ≥ 1%" not in plain
    page = _summary_table({"summary": {CEILING: row(0.8, 0.9), "mosaic": row(0.4, 0.855)}})
    header = page[: page.index("</tr>")]
    assert header.index("boundary LD r, sites with MAF ≥ 1%") < header.index("mean boundary r²")
    mosaic = page[page.index(">mosaic<") :]
    assert "0.855" in mosaic and "0.95" in mosaic  # the common sites' r and its ÷ ceiling
