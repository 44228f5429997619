"""Reports: figures, a self-contained run page, and the index across sections (worst first)."""

import json
import re

import keras
import matplotlib.image
import numpy as np
import pytest
from vcf_factory import structured_haplotypes

from vae_genomics.config import EvaluationConfig
from vae_genomics.evaluation.summary import SET_NAMES, evaluate_model
from vae_genomics.evaluation.verdict import VERDICTS
from vae_genomics.models.vae import HaplotypeVAE
from vae_genomics.report import figures
from vae_genomics.report.build import FIGURES, write_section_report
from vae_genomics.report.curves import training_curves
from vae_genomics.report.html import fmt
from vae_genomics.report.index import collect_runs, write_index
from vae_genomics.report.labels import SET_LABELS, SET_SHORT, SEVERITY

# in-page anchors and the link back to the index across sections are the only references
EXTERNAL = re.compile(r'(src|href)="(?!data:|#|(\.\./)+index\.html")')


@pytest.fixture(scope="module")
def evaluation():
    hap, pops = structured_haplotypes(n_samples=80, n_variants=40, n_pops=2, seed=1)
    labels = np.repeat(np.array(["P0", "P1"])[pops], 2)
    keras.utils.set_random_seed(1)
    model = HaplotypeVAE(n_variants=40, latent_dim=3, hidden_units=[16], seed=1)
    config = EvaluationConfig(iw_samples=4, elbo_samples=2, gmm_components=1, traversal_steps=5)
    return evaluate_model(model, hap[:120], hap[120:], config, populations=labels[120:], seed=0)


def _history(epochs=4, reencode=False):
    h = {
        k: list(np.linspace(10, 5, epochs))
        for k in ("loss", "reconstruction", "kl", "val_loss", "val_reconstruction", "val_kl")
    }
    h["kl_weight"] = [1.0] * epochs
    h["active_units"] = [3.0] * epochs
    h["kl_dim_1"] = [0.1] * epochs
    if reencode:
        h["reencode"] = h["val_reencode"] = [0.2] * epochs
    return h  # fmt: skip


def test_labels_cover_every_set_and_verdict():
    assert list(SET_LABELS) == list(SET_SHORT) == list(SET_NAMES)
    assert SEVERITY == VERDICTS


def test_fmt():
    assert fmt(None) == fmt(float("nan")) == "—"
    assert fmt(0.123456) == "0.1235" and fmt(True) == "yes" and fmt([0.5, 1.25]) == "0.5, 1.25"


def test_r2_matrix_against_numpy(rng):
    x = (rng.random((50, 6)) < 0.4).astype(float)
    x[:, 4] = 1.0  # constant site: undefined
    got = figures.r2_matrix(x)
    want = np.corrcoef(x[:, [0, 1, 2, 3, 5]].T) ** 2
    np.testing.assert_allclose(got[np.ix_([0, 1, 2, 3, 5], [0, 1, 2, 3, 5])], want, atol=1e-12)
    assert np.isnan(got[4]).all() and np.isnan(got[:, 4]).all()


def test_ld_window_is_centred():
    assert figures.ld_window(1000, 100) == slice(450, 550)
    assert figures.ld_window(40, 100) == slice(0, 40)


def test_training_curves_show_beta_active_units_and_reencoding():
    history = _history(reencode=True)
    history["kl_weight"] = [0.25, 0.5, 0.75, 1.0]  # a warm-up
    history["active_units"] = [1.0, 2.0, 3.0, 3.0]
    history["reencode"] = [0.4, 0.3, 0.2, 0.2]
    fig = training_curves(history, "section s", best_epoch=3)
    labels = {ax.get_ylabel() for ax in fig.axes}
    assert {"KL weight β", "active units (held-out)", "re-encoding term"} <= labels
    drawn = [ax for ax in fig.axes if ax.axison]
    assert len(drawn) == 6
    for ax in drawn:  # the best epoch is marked on every panel
        assert any(list(line.get_xdata()) == [3, 3] for line in ax.get_lines())
    assert len(fig.legends) == 1  # one legend for the figure
    fig = training_curves(_history(reencode=False), "section s")
    assert len([ax for ax in fig.axes if ax.axison]) == 3  # constant β and active units: no panel
    assert "KL weight β = 1 throughout" in fig.get_suptitle()
    assert "active units = 3 throughout" in fig.get_suptitle()


def test_training_curves_draw_the_generator_checks_of_the_heldout_set():
    history = _history(reencode=False)
    history["val_generator_nll"] = [50.0, 50.0, 40.0, 44.0]  # checks carried between epochs
    fig = training_curves(history, "section s", best_epoch=3)
    (panel,) = [ax for ax in fig.axes if ax.get_ylabel().startswith("generator's NLL")]
    curve = next(line for line in panel.get_lines() if line.get_label().startswith("generator"))
    # one point per check (where the carried value first appears or changes), not a staircase
    assert list(curve.get_xdata()) == [1, 3, 4] and list(curve.get_ydata()) == [50.0, 40.0, 44.0]


def test_training_curves_use_log_scale_when_the_first_epoch_dominates():
    history = _history(epochs=20)
    history["loss"] = history["val_loss"] = [5000.0] + [100.0 - i for i in range(19)]
    fig = training_curves(history, "section s")
    scales = {ax.get_ylabel(): ax.get_yscale() for ax in fig.axes if ax.axison}
    assert scales["objective (nats/haplotype) (log scale)"] == "log"
    assert scales["KL (nats/haplotype)"] == "linear"


def test_pca_overlays_colour_real_points_by_population(rng):
    real = rng.normal(size=(30, 4))
    pops = np.array(["CEU", "YRI", "CHB"] * 10)
    fig = figures.pca_overlays(real, {"set a": real, "set b": real}, np.full(4, 0.1), "section s",
                               populations=pops)  # fmt: skip
    assert fig.axes[0].get_ylabel().startswith("PC2") and fig.axes[1].get_xlabel().startswith("PC3")
    assert all(ax.get_legend() is None for ax in fig.axes) and len(fig.legends) == 1
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any("CEU" in t for t in legend) and any("set" in t for t in legend)
    assert "section s" in fig.get_suptitle()


def test_section_report_is_self_contained(tmp_path, evaluation):
    metrics = {
        "section": {"name": "1_1-40"}, "heldout": {"kl_weight": 1.0}, "evaluation":
        evaluation.summary, "active_units": 3, "latent_dim": 3, "epochs_run": 4, "best_epoch": 4,
        "origins": {"objective.kl_weight": "defaults"},
    }  # fmt: skip
    out = write_section_report(
        tmp_path / "report", "section 1_1-40 · run r", evaluation, _history(),
        {"section": "1_1-40", "KL weight β": 1.0},
        {"seed": 7, "report": {"ld_window": 30}, "training": {"epochs": 4}},
        ld_window=30, metrics=metrics, positions=np.arange(40) * 1000 + 5000,
        header="vae-genomics 0.1.0 · 2026-11-24", index_link="../../../index.html",
    )  # fmt: skip
    page = out.read_text()
    # the summary: a sentence per verdict, where beta came from, and what to do next
    assert page.count('<li><span class="v v-') == len(SET_NAMES)
    assert "β = 1 is the built-in default; <code>make sweep SECTION=1_1-40</code> tunes it." in page
    assert "not converged" in page and "ARGS=&quot;--epochs 8&quot;" in page
    assert not EXTERNAL.search(page)  # no file references: copy the one file anywhere
    assert page.count('src="data:image/png;base64,') == len(FIGURES)
    for name in FIGURES:
        image = matplotlib.image.imread(tmp_path / "report" / name)
        assert image.shape[0] > 300 and image.shape[1] > 600, name
    s = evaluation.summary
    for name in SET_NAMES:
        assert SET_SHORT[name] in page and f"v-{s['verdicts'][name]}" in page
    assert "ceiling" in page and "Coverage (PCA space) of each population" in page
    assert "4 epochs" in page and "val_reconstruction" in page  # the history table
    assert "ld_window: 30" in page  # the configuration
    assert "min_coverage_fraction" in page  # the thresholds are stated
    assert "min_precision_fraction" in page and "max_privacy_loss" in page
    # the realism and privacy panel, each generated set beside the ceiling
    assert "id='realism'" in page and s["generator"]["name"] in page
    realism = page[page.index("id='realism'") :]
    for value in (s["realism"]["ceiling"]["aats_heldout"],
                  s["realism"]["sets"]["generated_samples"]["privacy_loss"]):  # fmt: skip
        assert fmt(value) in realism
    rare = s["realism"]["sets"]["generated_samples"]["sfs"]["rare"]  # the sites at 1-10 copies
    assert "sites at 1–10 ALT copies: relative error vs held-out, pooled" in realism
    assert rare["total_relative_error"] is not None  # the tiny cohort keeps sites at 1-10 copies
    assert fmt(rare["total_relative_error"]) in realism
    ids = set(re.findall(r'id="([^"]+)"|id=\'([^\']+)\'', page))
    ids = {a or b for a, b in ids}
    for anchor in re.findall(r'href="#([^"]+)"', page):  # every contents link has its target
        assert anchor in ids, anchor
    assert "fig-latent_space" in ids


def _fake_run(runs, section, run, verdict=None, coverage=0.9, latest=True):
    run_dir = runs / section / run
    (run_dir / "report").mkdir(parents=True)
    (run_dir / "report" / "index.html").write_text("<html></html>")
    metrics = {
        "section": {"name": section, "n_variants": 100},
        "latent_dim": 8,
        "active_units": 5,
        "heldout": {"neg_elbo": 120.5, "kl_weight": 1.0},
    }
    if verdict:
        sets = {n: {"prdc_pca": {"coverage": coverage}} for n in SET_NAMES}
        verdicts = dict.fromkeys(SET_NAMES, "ok")
        verdicts["prior_samples"] = verdict
        metrics["evaluation"] = {
            "modeseek": {"sets": sets},
            "verdicts": verdicts,
            "worst": {"set": "prior_samples", "verdict": verdict},
        }
    (run_dir / "metrics.json").write_text(json.dumps(metrics))
    if latest:
        (runs / section / "latest").symlink_to(run)
    return run_dir


def test_index_lists_sections_worst_first_and_links_their_reports(tmp_path):
    runs = tmp_path / "runs"
    _fake_run(runs, "22_1-100", "a", "ok", coverage=0.95)
    _fake_run(runs, "22_101-200", "a", "mode-seeking", coverage=0.6)
    _fake_run(runs, "22_201-300", "a", "collapsed", coverage=0.1)
    _fake_run(runs, "22_301-400", "a", "mode-seeking", coverage=0.4)
    _fake_run(runs, "22_401-500", "old", None)  # written before the evaluation existed
    _fake_run(runs, "22_501-600", "a", "ok", latest=False)  # no link: the newest run is used
    (runs / "22_601-700").mkdir()  # no finished run: skipped
    configured = [{"name": "22_701-800", "contig": "22", "start": 701, "end": 800},
                  {"name": "22_1-100", "contig": "22", "start": 1, "end": 100}]  # fmt: skip
    out = write_index(runs, configured=configured, command="vae-genomics report --index runs")
    page = out.read_text()
    table_part = page[page.index("<h2 id='sections'>") :]
    order = [m.group(1) for m in re.finditer(r'<a href="([^"]+)"', table_part)]
    assert order == [
        "22_201-300/a/report/index.html",  # collapsed
        "22_301-400/a/report/index.html",  # mode-seeking, lower coverage first
        "22_101-200/a/report/index.html",
        "22_501-600/a/report/index.html",  # ok, coverage 0.9
        "22_1-100/a/report/index.html",
        "22_401-500/old/report/index.html",  # no verdict: last
    ]
    assert all((runs / link).is_file() for link in order)
    # a configured section without a run: listed last, marked, with the command that trains it
    last_row = table_part[table_part.rindex("<tr>") :]
    assert "22_701-800" in last_row and "not trained" in last_row
    assert "make train SECTION=22_701-800" in last_row
    rows_part = table_part[table_part.index("<table") :]  # after the counts and the filter
    assert rows_part.count("not trained") == 1  # 22_1-100 is trained: listed once
    assert "<option value='-2'>not trained (1)</option>" in table_part
    # what to do next: the collapsed and mode-seeking sections, with their commands
    advice = page[page.index("<h2 id='next'>") : page.index("<h2 id='track'>")]
    assert "make sweep SECTION=22_201-300" in advice and "make sweep SECTION=22_1-100" not in advice
    assert "1 configured section(s) not trained yet" in advice
    # the chromosome track: one shape per section, untrained ones hatched, with tooltips
    track = page[page.index("<svg") : page.index("</svg>")]
    assert (
        track.count('fill="url(#untrained)"') == 1 and "22_701-800 (701–800): not trained" in track
    )
    assert "vae-genomics 0." in page and "vae-genomics report --index runs" in page
    # nothing but the relative links to the sections' reports (table and track)
    assert {m.group(0) for m in EXTERNAL.finditer(page)} == {'href="'}
    assert "<script>" in page and "sortable" in page
    for column in ("section", "variants", "β", "held-out −ELBO", "active units", "verdict"):
        assert f">{column}" in page
    assert len(collect_runs(runs)) == 6
    for link in re.findall(r'href="#([^"]+)"', page):  # every in-page link has its target
        assert f"id='{link}'" in page or f'id="{link}"' in page, link
