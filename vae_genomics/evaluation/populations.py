"""Ancestry fidelity of a population's synthetic haplotypes: classifier agreement, F_ST, AF.

- :class:`AncestryClassifier`: a classifier fitted on real training haplotypes and their
  population labels (multinomial logistic regression on the Patterson-scaled PCA of
  :class:`~vae_genomics.evaluation.pca.HaplotypePCA`); :func:`assignment_rate` is the fraction of a
  set it assigns to a label, for synthetic haplotypes of P beside held-out real haplotypes of P.
- :func:`hudson_fst`: Hudson's F_ST between two sets of haplotypes (Hudson et al. 1992, in the
  ratio-of-averages form of Bhatia et al. 2013, eq. 10, as scikit-allel's ``hudson_fst``).
- :func:`allele_frequency_correlation`: Pearson r of the two sets' ALT frequencies per site.

All take 0/1 arrays (haplotypes × sites) and return numbers; nothing here draws or reads files.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression

from vae_genomics.evaluation.pca import HaplotypePCA


def _haplotypes(x: np.ndarray, what: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"{what}: expected at least 2 haplotypes × sites, got shape {x.shape}")
    return x


def hudson_fst(a: np.ndarray, b: np.ndarray) -> float:
    """Hudson's F_ST of two sets of haplotypes, (n_a, m) and (n_b, m), sites in the same order.

    Per site, with ALT frequencies p_a, p_b: numerator (p_a − p_b)² − p_a(1 − p_a)/(n_a − 1) −
    p_b(1 − p_b)/(n_b − 1) (the squared difference less its sampling expectation), denominator
    p_a(1 − p_b) + p_b(1 − p_a); F_ST is the sum of numerators over the sum of denominators. Two
    samples of one population give ≈ 0 (slightly negative or positive); NaN when no site varies.
    """
    a, b = _haplotypes(a, "a"), _haplotypes(b, "b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"a has {a.shape[1]} sites, b {b.shape[1]}")
    pa, pb = a.mean(axis=0), b.mean(axis=0)
    num = (pa - pb) ** 2 - pa * (1 - pa) / (len(a) - 1) - pb * (1 - pb) / (len(b) - 1)
    den = pa * (1 - pb) + pb * (1 - pa)
    total = den.sum()
    return float(num.sum() / total) if total > 0 else float("nan")


def allele_frequency_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson r of the ALT frequencies of two sets of haplotypes at the same sites (NaN when
    either set's frequencies are constant)."""
    pa = _haplotypes(a, "a").mean(axis=0)
    pb = _haplotypes(b, "b").mean(axis=0)
    if pa.shape != pb.shape:
        raise ValueError(f"a has {pa.size} sites, b {pb.size}")
    if pa.std() == 0 or pb.std() == 0:
        return float("nan")
    return float(np.corrcoef(pa, pb)[0, 1])


class AncestryClassifier:
    """Population of a haplotype, from real training haplotypes and their labels.

    Multinomial logistic regression on the first ``n_components`` principal components (Patterson
    scaling, fitted on the training haplotypes only); anything else is projected on those axes.

    Args:
        n_components: Principal components used.
        seed: Seed of the PCA's solver.
    """

    def __init__(self, n_components: int = 10, seed: int = 0) -> None:
        self.n_components = n_components
        self.seed = seed

    def fit(self, haplotypes: np.ndarray, labels: np.ndarray) -> AncestryClassifier:
        """Fit on real haplotypes (n, m) and their labels (n,); at least two labels."""
        x = _haplotypes(haplotypes, "haplotypes")
        labels = np.asarray(labels).astype(str)
        if len(labels) != len(x):
            raise ValueError(f"{len(labels)} labels for {len(x)} haplotypes")
        if len(set(labels)) < 2:
            raise ValueError("the classifier needs haplotypes of at least two populations")
        self.pca_ = HaplotypePCA(self.n_components, random_state=self.seed).fit(x)
        pcs = self.pca_.transform(x)
        self.scale_ = pcs.std(axis=0) + 1e-12
        self.model_ = LogisticRegression(max_iter=2000).fit(pcs / self.scale_, labels)
        self.classes_ = self.model_.classes_
        return self

    def predict(self, haplotypes: np.ndarray) -> np.ndarray:
        """The most probable population of each haplotype, shape (n,)."""
        if len(haplotypes) == 0:
            return np.asarray([], dtype=str)
        pcs = self.pca_.transform(_haplotypes(haplotypes, "haplotypes"))
        return self.model_.predict(pcs / self.scale_)


def assignment_rate(predicted: np.ndarray, label: str) -> float:
    """Fraction of predicted labels equal to ``label`` (NaN for none)."""
    predicted = np.asarray(predicted).astype(str)
    return float(np.mean(predicted == str(label))) if predicted.size else float("nan")


def classifier_agreement(
    classifier: AncestryClassifier, synthetic: np.ndarray, heldout: np.ndarray, label: str
) -> dict[str, float]:
    """How often a fitted classifier assigns synthetic and held-out real haplotypes of a
    population to it: ``{"synthetic": rate, "heldout": rate}``."""
    return {
        "synthetic": assignment_rate(classifier.predict(synthetic), label),
        "heldout": assignment_rate(classifier.predict(heldout), label),
    }
