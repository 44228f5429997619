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
