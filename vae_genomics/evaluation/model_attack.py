"""The likelihood attack on a trained model: its IW-NLL of training against held-out haplotypes."""

from __future__ import annotations

from typing import Any

import numpy as np

from vae_genomics.evaluation.attacks import likelihood_attack
from vae_genomics.evaluation.likelihood import importance_weighted_nll
from vae_genomics.models.vae import HaplotypeVAE

#: Draws of the likelihood attack and of its real reference (mean ± SD over them).
ATTACK_DRAWS = 5


def likelihood_attack_numbers(
    model: HaplotypeVAE,
    x_train: np.ndarray,
    nll_heldout: np.ndarray,
    n_samples: int,
    seed: int,
    draws: int = ATTACK_DRAWS,
) -> dict[str, Any]:
    """Membership inference on the model itself: does it give its training haplotypes a higher
    likelihood than unseen ones?

    A training subsample as large as the held-out set gets its importance-weighted NLL (the same
    K and seed rule as the held-out one). Each draw splits both sets in random halves: the attack
    scores training half vs held-out half A (score = −NLL; AUC and TPR at 1% FPR of
    :func:`~vae_genomics.evaluation.attacks.likelihood_attack`), and the real reference scores
    held-out half B vs A, two sets the model never saw, so its AUC is 0.5 up to the noise of
    sets that size. An AUC above the reference's by more than its SD is a model that memorised.

    Args:
        model: Trained model.
        x_train: Real training haplotypes, shape (n_train, L).
        nll_heldout: Held-out haplotypes' IW-NLL, nats, shape (n,).
        n_samples: Importance samples per haplotype (K).
        seed: Seed of the subsample, the NLL draws and the halves.
        draws: Random halvings averaged over.

    Returns:
        ``auc``, ``auc_sd``, ``tpr_at_1pct_fpr``, ``reference_auc``, ``reference_auc_sd``,
        ``reference_tpr_at_1pct_fpr``, ``n`` (haplotypes per half), ``draws``, and the mean
        NLL of the members and of the held-out haplotypes (nats).
    """
    rng = np.random.default_rng([seed, 29])
    n = min(len(nll_heldout), len(x_train))
    members = x_train[np.sort(rng.choice(len(x_train), n, replace=False))]
    nll_members = importance_weighted_nll(model, members, n_samples=n_samples, seed=seed)
    nll_members = np.asarray(nll_members["per_haplotype"])
    nll_heldout = np.asarray(nll_heldout)[:n] if len(nll_heldout) > n else np.asarray(nll_heldout)
    half = len(nll_heldout) // 2
    attack, reference = [], []
    for _ in range(draws):
        held = rng.permutation(len(nll_heldout))
        a, b = nll_heldout[held[:half]], nll_heldout[held[half : 2 * half]]
        m = nll_members[rng.permutation(len(nll_members))[:half]]
        attack.append(likelihood_attack(m, a))
        reference.append(likelihood_attack(b, a))
    out: dict[str, Any] = {"n": half, "draws": draws}
    for prefix, runs in (("", attack), ("reference_", reference)):
        aucs = [r["auc"] for r in runs]
        out[f"{prefix}auc"] = float(np.mean(aucs))
        out[f"{prefix}auc_sd"] = float(np.std(aucs, ddof=1)) if draws > 1 else 0.0
        out[f"{prefix}tpr_at_1pct_fpr"] = float(np.mean([r["tpr_at_fpr"] for r in runs]))
    out["members_nll"] = float(nll_members.mean())
    out["heldout_nll"] = float(nll_heldout.mean())
    return out
