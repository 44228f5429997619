"""A stricter YAML safe loader: duplicate keys refused, alias use bounded.

:class:`yaml.SafeLoader` builds only plain Python values (no code runs), but it keeps the last of two
equal keys silently, and a few bytes of nested aliases (``&a [*b, *b, ...]``) stand for an object
whose printed form takes gigabytes. :func:`load_yaml` refuses both: a mapping with a repeated key,
and documents that use more than :data:`MAX_ALIASES` aliases (a configuration needs few, if any).
It also refuses what would otherwise end in a Python error instead of a message: values nested
deeper than :data:`MAX_DEPTH` (thousands of ``[`` exhaust the recursion of the composer) and
integers longer than :data:`MAX_INT_DIGITS` digits (Python refuses to convert past 4,300).
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError
from yaml.events import AliasEvent

#: Most aliases (``*name``) one document may use.
MAX_ALIASES = 50

#: Deepest nesting of lists and mappings one document may use.
MAX_DEPTH = 64

#: Most digits of an integer (a configuration's largest numbers have a dozen).
MAX_INT_DIGITS = 100


class StrictSafeLoader(yaml.SafeLoader):
    """:class:`yaml.SafeLoader` that refuses duplicate mapping keys and many aliases."""

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._aliases = 0
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                event = self.peek_event()
                raise ConstructorError(
                    None, None,
                    f"more than {MAX_ALIASES} aliases (*name): refused, as aliases can expand "
                    "to a huge value; write the values out",
                    event.start_mark,
                )  # fmt: skip
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise ComposerError(
                    None, None,
                    f"values nested more than {MAX_DEPTH} levels deep: refused; a configuration "
                    "needs a few levels",
                    self.peek_event().start_mark,
                )  # fmt: skip
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_yaml_int(self, node: Any) -> Any:
        digits = sum(c.isdigit() for c in str(node.value))
        if digits > MAX_INT_DIGITS:
            raise ConstructorError(
                None, None,
                f"an integer of {digits} digits: refused (at most {MAX_INT_DIGITS}); give a "
                "number of the expected size",
                node.start_mark,
            )  # fmt: skip
        return super().construct_yaml_int(node)

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, Any] = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                try:
                    repeated = key in seen
                except TypeError:  # an unhashable key: the base class reports it
                    continue
                if repeated:
                    raise ConstructorError(
                        "while reading a mapping", node.start_mark,
                        f"the key {str(key)[:80]!r} appears twice (first {seen[key]}); keep one",
                        key_node.start_mark,
                    )  # fmt: skip
                seen[key] = f"line {key_node.start_mark.line + 1}"
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str) -> Any:
    """Parse one YAML document with :class:`StrictSafeLoader`.

    Raises:
        yaml.YAMLError: Not valid YAML, a repeated key or too many aliases.
    """
    try:
        return yaml.load(text, Loader=StrictSafeLoader)
    except (RecursionError, ValueError, OverflowError) as exc:  # a limit not caught above
        raise yaml.YAMLError(f"cannot be read as a value ({type(exc).__name__}: {exc})") from None


StrictSafeLoader.add_constructor("tag:yaml.org,2002:int", StrictSafeLoader.construct_yaml_int)
