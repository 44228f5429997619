"""The options of a region's sampling (:func:`vae_genomics.commands.sample_region.run_region`),
refused before anything is loaded when they cannot be used."""

from __future__ import annotations

from pathlib import Path

from vae_genomics.common.errors import DataError, RunError
from vae_genomics.generate.joint import JOINT_MODELS


def check_region_options(
    joint: str,
    decoder: str | None,
    source: str | None,
    max_components: int | None,
    neighbours: int | None,
    out: str | Path | None,
    groups: str,
    switch_sites: int,
) -> tuple[str, str, int]:
    """Refuse the options of :func:`run_region` that cannot be used, before anything is loaded.

    Args:
        joint: Joint latent model of the VCF.
        decoder: Decoder rule of the alleles, or None (the default).
        source: Codes the joint models are fitted on, or None (the default).
        max_components: Largest number of components of each mixture, or None (the default).
        neighbours: Candidates of each switch of the ``mosaic`` model, or None.
        out: Output VCF, or None.
        groups: Labels the ``mosaic`` switches stay within.
        switch_sites: Sites before each boundary the ``mosaic``'s switches are chosen on.

    Returns:
        The decoder, the code source and the largest number of components (defaults filled in).

    Raises:
        DataError: An unknown joint model, code source, decoder or group level, or a count
            below its floor.
        RunError: ``out`` is standard output.
    """
    from vae_genomics.generate.decoders import parse_decoder
    from vae_genomics.generate.region import (
        DEFAULT_DECODER,
        DEFAULT_MAX_COMPONENTS,
        DEFAULT_SOURCE,
        GROUP_LEVELS,
    )

    if joint not in JOINT_MODELS:
        raise DataError(f"unknown joint model {joint!r}: use one of {', '.join(JOINT_MODELS)}")
    decoder = decoder or DEFAULT_DECODER
    source = source or DEFAULT_SOURCE
    if source not in ("means", "samples"):
        raise DataError(f"unknown code source {source!r}: use means or samples")
    max_components = DEFAULT_MAX_COMPONENTS if max_components is None else max_components
    if max_components < 1:
        raise DataError(f"the number of mixture components must be >= 1, got {max_components}")
    if neighbours is not None and neighbours < 1:
        raise DataError(f"the mosaic's neighbours must be >= 1, got {neighbours}")
    check_switch_sites(switch_sites)
    if groups not in GROUP_LEVELS:
        raise DataError(f"unknown mosaic groups {groups!r}: use one of {', '.join(GROUP_LEVELS)}")
    try:
        parse_decoder(decoder)
    except ValueError as err:
        raise DataError(str(err)) from None
    if out is not None and str(out) == "-":
        raise RunError("a region is written to a file (with its index), not to standard output")
    return decoder, source, max_components


def group_switch_sites(switch_sites: int | None) -> int:
    """The switch sites of each population's own mosaic (``--populations``, ``--admixed`` over a
    region): ``--switch-sites``, else
    :data:`vae_genomics.generate.mosaic.DEFAULT_GROUP_SWITCH_SITES`.

    Raises:
        DataError: A negative count.
    """
    from vae_genomics.generate.mosaic import DEFAULT_GROUP_SWITCH_SITES

    if switch_sites is None:
        return DEFAULT_GROUP_SWITCH_SITES
    return check_switch_sites(switch_sites)


def check_switch_sites(switch_sites: int) -> int:
    """``switch_sites`` if it is a count (>= 0; 0: switches in the latent space).

    Raises:
        DataError: A negative count.
    """
    if switch_sites < 0:
        raise DataError(f"the mosaic's switch sites must be >= 0, got {switch_sites}")
    return switch_sites


def check_group_draw(out: Path | str | None, joint: str | None, label: str, draws: str) -> None:
    """What a region drawn by group (``--populations``, ``--admixed``) needs: an output file and
    the mosaic joint model.

    Args:
        out: ``--out`` (``-``, standard output, is refused: the draw writes several files).
        joint: ``--joint`` (None or ``mosaic``).
        label: The request, as the messages name it (``sample --admixed``).
        draws: Whose mosaics it draws (``each source population's``).

    Raises:
        RunError: No ``--out`` file, or another joint model.
    """
    if out is None or str(out) == "-":
        raise RunError(f"{label}: give --out FILE.vcf.gz")
    if joint not in (None, "mosaic"):
        raise RunError(f"{label} draws {draws} mosaic: --joint {joint} is not available with it")
