"""The privacy budget after drawing: the haplotypes about to be written, attacked at their number.

The check before drawing (:mod:`vae_genomics.commands.privacy_gate`) reads the numbers the report
measured on a set as large as the held-out set; a larger release leaks more
(:mod:`vae_genomics.evaluation.release_attack`). So the haplotypes drawn are attacked before
anything is written, and a release over the budget's AUC limit writes nothing:

- one section (``sample RUN``, ``--populations``, the Python API): :func:`release_gate`;
- a region (``sample --region`` / ``--sections``): :class:`RegionReleaseCheck`, fed each
  section's block as it is drawn: each section's attack on its own, then the region's (a real
  haplotype scored by minus its distances to the nearest released haplotype summed over the
  sections), before the VCF's final rename.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np

from vae_genomics.commands.privacy_gate import PrivacyBudgetError
from vae_genomics.config.budget import PrivacyBudget
from vae_genomics.evaluation.budget import check_release, describe_release

if TYPE_CHECKING:
    from vae_genomics.data.packed import PackedHaplotypes
    from vae_genomics.run.load import LoadedRun
    from vae_genomics.run.region import LoadedRegion

log = logging.getLogger(__name__)

__all__ = ["RegionReleaseCheck", "region_release_gate", "release_gate"]

#: What ``<out>.privacy.json``'s ``release`` holds, in words (its ``release_checked``).
CHECKED = (
    "the distance attack on the haplotypes written: every training (member) and held-out "
    "(non-member) haplotype scored by minus its distance to the nearest written one, AUC over "
    "0.5 within the budget's AUC limit, at doubling sizes of the release"
)


def release_gate(
    run: LoadedRun, haplotypes: np.ndarray, record: dict[str, Any], what: str = "sample"
) -> dict[str, Any]:
    """Check the haplotypes about to be released against the budget of ``record``, at their own
    number (:mod:`vae_genomics.evaluation.release_attack`): the report's numbers were measured on
    a set as large as the held-out one, and a larger release leaks more. Adds ``release`` (the
    section → :func:`~vae_genomics.evaluation.budget.check_release` record) to ``record``.

    Args:
        run: The section's run (its training and held-out haplotypes are the attack's members
            and non-members).
        haplotypes: What is about to be written, shape (N, n_variants), 0/1, in release order.
        record: :func:`~vae_genomics.commands.privacy_gate.gate`'s record (``budget`` off:
            nothing is checked).
        what: What is released, for the messages.

    Returns:
        ``record``, with ``release``.

    Raises:
        PrivacyBudgetError: The attack on the release is over the budget's AUC limit; nothing is
            written. The message gives the AUC by release size, the largest size within the
            limit, and what to do.
    """
    from vae_genomics.evaluation.release_attack import release_attack

    if record.get("budget") == "off":
        return record
    budget = PrivacyBudget(**record["budget"])
    x = run.data.matrix.haplotypes
    attack = release_attack(haplotypes, x[run.train_rows], x[run.val_rows])
    check = check_release(attack, budget, len(run.train_rows))
    section = run.data.section.name
    record.setdefault("release", {})[section] = check
    record["release_checked"] = CHECKED
    if check["meets"]:
        log.info("%s: %s", section, describe_release(check))
        return record
    _refuse(what, budget, section, check)


def _refuse(what: str, budget: PrivacyBudget, name: str, check: dict[str, Any]) -> NoReturn:
    """Raise the error of a release over ``budget`` (:func:`release_gate`'s message)."""
    within = check["largest_within"]
    fewer = (
        f"release at most {within} haplotypes (`--n {within - within % 2}`), or "
        if within and within >= 2 and within < check["n_released"]
        else ""
    )
    raise PrivacyBudgetError(
        f"{what}: the haplotypes drawn do not meet the {budget.describe()} at the size asked "
        f"for. {name}: {describe_release(check)}. The report's numbers were measured on a "
        "set as large as the held-out one; a larger release leaks more. Nothing was written. "
        f"What to do: {fewer}lower the leak itself (docs/privacy.md: dropout), choose a looser "
        "budget, or release the set knowingly with `--privacy off`."
    )


class RegionReleaseCheck:
    """The attack on a region's release, section by section as it is drawn (module docstring).

    Args:
        region: The loaded region (its training rows are the members, its held-out rows the
            non-members).
        record: :func:`~vae_genomics.commands.privacy_gate.gate`'s record; gets ``release``
            (each section's check and ``region``'s).
        n: Haplotypes drawn.
        what: What is released, for the messages.
    """

    def __init__(self, region: LoadedRegion, record: dict[str, Any], n: int, what: str) -> None:
        from vae_genomics.evaluation.release_attack import prefix_sizes

        self.region, self.record, self.what = region, record, what
        self.budget = PrivacyBudget(**record["budget"])
        self.rows = np.concatenate([region.train_rows, region.val_rows])
        self.sizes = prefix_sizes(n)
        self.total = np.zeros((len(self.sizes), len(self.rows)), dtype=np.float64)
        record.setdefault("release", {})
        record["release_checked"] = CHECKED + " (each section's block, then the whole region)"

    def section(self, k: int, block: np.ndarray) -> None:
        """Attack section ``k``'s block of the release, shape (n, n_sites_k); add its distances
        to the region's.

        Raises:
            PrivacyBudgetError: The section's block is over the budget.
        """
        from vae_genomics.evaluation.release_attack import attack_from_nearest, nearest_by_prefix

        region = self.region
        sites = slice(int(region.offsets[k]), int(region.offsets[k + 1]))
        real = region.haplotypes[self.rows, sites]  # only this section's columns are copied
        nearest = nearest_by_prefix(block, real, self.sizes)
        self.total += nearest
        name = region.sections[k].data.section.name
        self._check(name, attack_from_nearest(nearest, len(region.train_rows), self.sizes))

    def finish(self) -> None:
        """The region's attack (distances summed over its sections), after the last section.

        Raises:
            PrivacyBudgetError: The region's release is over the budget.
        """
        from vae_genomics.evaluation.release_attack import attack_from_nearest

        attack = attack_from_nearest(self.total, len(self.region.train_rows), self.sizes)
        self._check(f"region {self.region.name}", attack, key="region")

    def _check(self, name: str, attack: dict[str, Any], key: str | None = None) -> None:
        check = check_release(attack, self.budget, len(self.region.train_rows))
        self.record["release"][key or name] = check
        if not check["meets"]:
            _refuse(self.what, self.budget, name, check)
        log.info("%s: %s", name, describe_release(check))


def region_release_gate(
    region: LoadedRegion,
    haplotypes: np.ndarray | PackedHaplotypes,
    record: dict[str, Any],
    what: str,
) -> dict[str, Any]:
    """:class:`RegionReleaseCheck` over a region's haplotypes drawn whole (``--populations``,
    ``--admixed``), shape (N, n_sites), an array or bits (read a section at a time); nothing is
    checked with the budget off.

    Returns:
        ``record``, with ``release``.

    Raises:
        PrivacyBudgetError: A section's block or the whole region is over the budget.
    """
    if record.get("budget") == "off":
        return record
    check = RegionReleaseCheck(region, record, len(haplotypes), what)
    for k in range(len(region.sections)):
        check.section(k, haplotypes[:, int(region.offsets[k]) : int(region.offsets[k + 1])])
    check.finish()
    return record
