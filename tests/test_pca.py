"""Patterson-scaled PCA against scikit-allel's reference implementation."""

import allel
import numpy as np
from vcf_factory import structured_haplotypes

from vae_genomics.evaluation.pca import HaplotypePCA


def test_matches_scikit_allel_patterson_pca_up_to_sign():
    hap, _ = structured_haplotypes(n_samples=30, n_variants=80, n_pops=3, seed=3)
    hap[:, 5] = 1  # a monomorphic site must be dropped, as allel does
    ours = HaplotypePCA(n_components=4).fit(hap)
    coords = ours.transform(hap)
    keep = hap.mean(axis=0) > 0
    keep &= hap.mean(axis=0) < 1
    reference, model = allel.pca(
        hap[:, keep].T.astype(np.float64), n_components=4, scaler="patterson", ploidy=1
    )
    for k in range(4):
        sign = np.sign(np.dot(coords[:, k], reference[:, k]))
        np.testing.assert_allclose(coords[:, k], sign * reference[:, k], rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(
        ours.explained_variance_ratio_, model.explained_variance_ratio_, rtol=1e-6
    )
    assert not ours.keep_[5]


def test_projection_uses_training_centring():
    hap, _ = structured_haplotypes(n_samples=20, n_variants=50, seed=1)
    pca = HaplotypePCA(n_components=2).fit(hap[:30])
    # the training mean haplotype (allele frequencies) projects to the origin
    np.testing.assert_allclose(pca.transform(hap[:30].mean(axis=0, keepdims=True)), 0.0, atol=1e-10)


def test_thinned_sites_are_evenly_spaced_polymorphic_sites_and_fit_as_if_alone():
    hap, _ = structured_haplotypes(n_samples=40, n_variants=200, n_pops=3, seed=5)
    hap[:, ::7] = 0  # monomorphic sites are never chosen
    polymorphic = np.flatnonzero((hap.mean(axis=0) > 0) & (hap.mean(axis=0) < 1))
    thinned = HaplotypePCA(n_components=3, max_sites=50).fit(hap)
    chosen = np.flatnonzero(thinned.keep_)
    assert len(chosen) == 50 and set(chosen) <= set(polymorphic)
    assert chosen[0] == polymorphic[0] and chosen[-1] == polymorphic[-1]
    gaps = np.diff(np.searchsorted(polymorphic, chosen))
    assert gaps.max() - gaps.min() <= 1  # every k-th polymorphic site, k varying by at most 1
    alone = HaplotypePCA(n_components=3).fit(hap[:, chosen])
    np.testing.assert_allclose(
        np.abs(thinned.transform(hap)), np.abs(alone.transform(hap[:, chosen])), atol=1e-8
    )
    # no thinning at or above the number of polymorphic sites
    whole = HaplotypePCA(n_components=3, max_sites=len(polymorphic)).fit(hap)
    np.testing.assert_array_equal(np.flatnonzero(whole.keep_), polymorphic)
