"""Ancestry-fidelity numbers (evaluation/populations.py) against numpy references and closed forms."""

from __future__ import annotations

import allel
import numpy as np
import pytest
from vcf_factory import structured_haplotypes

from vae_genomics.evaluation.populations import (
    AncestryClassifier,
    allele_frequency_correlation,
    assignment_rate,
    classifier_agreement,
    hudson_fst,
)


def test_hudson_fst_is_scikit_allels_ratio_of_averages(rng):
    a = (rng.random((30, 200)) < rng.random(200)).astype(np.int8)
    b = (rng.random((24, 200)) < rng.random(200)).astype(np.int8)
    num, den = allel.hudson_fst(
        allel.HaplotypeArray(a.T).count_alleles(), allel.HaplotypeArray(b.T).count_alleles()
    )
    assert hudson_fst(a, b) == pytest.approx(np.nansum(num) / np.nansum(den), rel=1e-12)
    assert hudson_fst(a, b) == pytest.approx(hudson_fst(b, a))


def test_hudson_fst_closed_forms():
    # fixed differences: every site 0 in one set, 1 in the other → F_ST = 1
    assert hudson_fst(np.zeros((4, 5)), np.ones((6, 5))) == pytest.approx(1.0)
    # one site, p_a = 1/2 of 4, p_b = 0 of 4: num = 1/4 - (1/4)/3, den = 1/2 → 1/3
    a = np.array([[1], [1], [0], [0]])
    assert hudson_fst(a, np.zeros((4, 1))) == pytest.approx((0.25 - 0.25 / 3) / 0.5)
    # the same haplotypes twice: num = -2 p(1-p)/(n-1) per site < 0
    assert hudson_fst(a, a) == pytest.approx((-2 * 0.25 / 3) / 0.5)
    assert np.isnan(hudson_fst(np.zeros((3, 2)), np.zeros((3, 2))))
    with pytest.raises(ValueError, match="sites"):
        hudson_fst(np.zeros((3, 2)), np.zeros((3, 3)))


def test_hudson_fst_near_zero_within_and_large_between_populations():
    hap, pops = structured_haplotypes(n_samples=200, n_variants=300)
    rows = np.repeat(pops, 2)
    p0, p1 = hap[rows == 0], hap[rows == 1]
    assert abs(hudson_fst(p0[:100], p0[100:])) < 0.01
    assert hudson_fst(p0, p1) > 0.2


def test_allele_frequency_correlation_is_pearson_of_the_frequencies(rng):
    a = (rng.random((20, 50)) < 0.3).astype(np.int8)
    b = (rng.random((10, 50)) < 0.6).astype(np.int8)
    expected = np.corrcoef(a.mean(0), b.mean(0))[0, 1]
    assert allele_frequency_correlation(a, b) == pytest.approx(expected)
    assert allele_frequency_correlation(a, a) == pytest.approx(1.0)
    assert np.isnan(allele_frequency_correlation(a, np.zeros((4, 50))))


def test_classifier_assigns_held_out_haplotypes_to_their_population():
    hap, pops = structured_haplotypes(n_samples=120, n_variants=150)
    labels = np.where(np.repeat(pops, 2) == 0, "P0", "P1")
    test = (np.arange(len(hap)) // 2) % 5 < 2  # 2 samples in 5 held out
    train = ~test
    clf = AncestryClassifier(n_components=4).fit(hap[train], labels[train])
    assert set(clf.classes_) == {"P0", "P1"}
    held0 = hap[test & (labels == "P0")]
    agreement = classifier_agreement(clf, held0, held0, "P0")
    assert agreement["heldout"] == agreement["synthetic"] > 0.95
    assert assignment_rate(clf.predict(hap[test & (labels == "P1")]), "P0") < 0.05
    assert assignment_rate(np.array(["a", "b", "a", "a"]), "a") == 0.75
    assert np.isnan(assignment_rate(np.array([]), "a"))
    with pytest.raises(ValueError, match="at least two populations"):
        AncestryClassifier().fit(hap[:10], ["P0"] * 10)
