"""Generator names, ``source[/decoder[/guard]]``, parsed without building anything.

The grammar of :mod:`vae_genomics.generate.generators` (its module docstring lists the names)
checked with numpy only, so that the command line refuses a misspelt ``--sampler`` before it
starts TensorFlow or reads a run.
"""

from __future__ import annotations

from vae_genomics.generate.decoders import number_in_range, parse_decoder

#: Short names of ``sample --sampler`` outside the grammar: Bernoulli draws at z ~ p(z) (``prior``)
#: and at codes of the run's stored BIC mixture (``gmm``).
SHORT_NAMES = ("prior", "gmm")

#: Code sources by name (``aggregate:S`` takes a number).
SOURCES = ("prior", "gmm", "gmm-heldout", "aggregate")

#: Largest spread inflation S of ``aggregate:S``: ten times a posterior's spread already puts codes
#: far outside where the decoder was trained (an infinite S decodes to all-REF haplotypes).
MAX_SPREAD = 10.0
#: Largest candidate factor F of ``guard:F`` (F × n candidates are drawn and decoded).
MAX_GUARD = 100.0
#: Candidates per kept haplotype of the copy guard (``guard`` without a factor).
GUARD_FACTOR = 4.0


def parse_source(name: str) -> tuple[str, float]:
    """``(kind, S)`` of a code source's name: ``aggregate:S`` → ``("aggregate", S)`` (S = 1 when
    omitted); ``prior``, ``gmm``, ``gmm-heldout`` → ``(name, 1.0)``.

    Raises:
        ValueError: An unknown source (the message lists the names), or S not finite or outside
            (0, :data:`MAX_SPREAD`].
    """
    kind, _, value = name.partition(":")
    if kind in ("prior", "gmm", "gmm-heldout") and not value:
        return kind, 1.0
    if kind == "aggregate":
        what = f"code source {name!r}: S of aggregate:S"
        return kind, number_in_range(value, 1.0, 0.0, MAX_SPREAD, what, "aggregate:1.5")
    raise ValueError(
        f"unknown code source {name!r}: use prior, gmm, gmm-heldout, aggregate or aggregate:S"
    )


def parse_guard(guard: str) -> float:
    """The candidate factor of a guard name (``guard`` → 4, ``guard:F`` → F >= 1)."""
    kind, _, value = guard.partition(":")
    if kind != "guard":
        raise ValueError(
            f"unknown copy guard {guard!r}: use guard or guard:F with F >= 1 (e.g. guard:4)"
        )
    what = f"copy guard {guard!r}: F of guard:F"
    factor = number_in_range(value, GUARD_FACTOR, 0.0, MAX_GUARD, what, "guard:4")
    if factor < 1:
        raise ValueError(f"{what}: {value!r} is not allowed; it must be at least 1 (e.g. guard:4)")
    return factor


def parse_generator(spec: str) -> tuple[str, str, float | None]:
    """``(source, decoder, guard factor or None)`` of ``source[/decoder[/guard]]`` (decoder
    ``bernoulli`` when omitted), each part checked.

    Raises:
        ValueError: An unknown source, decoder or guard (the message lists the names), or a
            numeric parameter that is not finite or out of its range (named with the range).
    """
    source, _, rest = spec.partition("/")
    decoder, _, guard = rest.partition("/")
    decoder = decoder or "bernoulli"
    try:
        parse_source(source)
        parse_decoder(decoder)
        factor = parse_guard(guard) if guard else None
    except ValueError as exc:
        raise ValueError(f"generator {spec!r}: {exc}") from None
    return source, decoder, factor
