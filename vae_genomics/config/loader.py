"""Loading a configuration: YAML layers, per-section overrides and validation (see the package)."""

from __future__ import annotations

import copy
import difflib
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from vae_genomics.common.errors import ConfigError, bounded
from vae_genomics.config.schema import (
    Config,
)


def read_yaml(path: Path) -> dict[str, Any]:
    """Read a YAML mapping with the safe loader.

    Args:
        path: File to read.

    Returns:
        The mapping (empty for an empty file).

    Raises:
        ConfigError: The file is missing, is not valid YAML, or is not a mapping.
    """
    from vae_genomics.common.yamlio import load_yaml

    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory, not a config file. Give the YAML file's path.")
    if not path.is_file():
        from vae_genomics.common.io import missing_file

        raise ConfigError(
            f"{path}: {missing_file(path, 'config file')}. Check the path given with --config."
        )
    try:
        content = load_yaml(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: byte {exc.start} is not UTF-8 text; save the file as UTF-8."
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"{path}: cannot be read ({exc.strerror}). Check its permissions."
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(
            f"{path}: not valid YAML: {bounded(' '.join(str(exc).split()), 600)}"
        ) from None
    if content is None:
        return {}
    if not isinstance(content, dict):
        raise ConfigError(
            f"{path}: expected a mapping of option names to values at the top level, "
            f"got {type(content).__name__}."
        )
    return content


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Merge ``override`` into a copy of ``base``; nested mappings merge key by key."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _check_keys(
    raw: dict[str, Any],
    model: type[BaseModel],
    source: str,
    prefix: str = "",
    problems: list[str] | None = None,
) -> list[str]:
    """Every key of ``raw`` that ``model`` does not define (or that should be a mapping), as
    messages naming key and file; raises on the first only when ``problems`` is not given."""
    found: list[str] = [] if problems is None else problems
    for key, value in raw.items():
        dotted = f"{prefix}{key}"
        if key not in model.model_fields:
            known = sorted(model.model_fields)
            close = difflib.get_close_matches(str(key), known, n=1)
            hint = f" Did you mean '{prefix}{close[0]}'?" if close else ""
            found.append(
                f"{source}: unknown key '{dotted}'.{hint} "
                f"Known keys here: {', '.join(prefix + k for k in known)} (see configs/default.yaml)."
            )
            continue
        annotation = model.model_fields[key].annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if not isinstance(value, dict):
                found.append(
                    f"{source}: key '{dotted}' must be a mapping of options, "
                    f"got {type(value).__name__} {value!r}."
                )
                continue
            _check_keys(value, annotation, source, prefix=f"{dotted}.", problems=found)
    if problems is None and found:
        raise ConfigError(found[0])
    return found


def _has_key(raw: dict[str, Any], dotted: tuple[Any, ...]) -> bool:
    node: Any = raw
    for part in dotted:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def build_config(layers: list[tuple[str, dict[str, Any]]]) -> Config:
    """Validate and merge configuration layers (lowest priority first).

    Args:
        layers: ``(source name, mapping)`` pairs; the source names appear in error messages.

    Returns:
        The validated configuration.

    Raises:
        ConfigError: Every unknown key and wrong value at once (one per line), each naming the key
            and the layer it came from.
    """
    merged: dict[str, Any] = {}
    problems: list[str] = []
    for source, raw in layers:
        _check_keys(raw, Config, source, problems=problems)
        merged = deep_merge(merged, raw)
    if problems:
        raise ConfigError(_joined(problems))
    try:
        return Config.model_validate(merged)
    except ValidationError as exc:
        seen: set[tuple[str, ...]] = set()
        for err in exc.errors():
            # pydantic appends union-member tags ("int", "literal['auto']") and list indices to
            # the location: keep only the field names.
            key_path = tuple(p for p in err["loc"] if isinstance(p, str) and _is_field_name(p))
            origin = next(
                (src for src, raw in reversed(layers) if _has_key(raw, key_path)), "defaults"
            )
            message = (
                f"{origin}: invalid value {bounded(repr(err.get('input')), 120)} for key "
                f"'{'.'.join(key_path)}': "
                f"{err['msg']}. See configs/default.yaml for the expected type."
            )
            if key_path not in seen:  # a union reports each member: say it once per key
                seen.add(key_path)
                problems.append(message)
        raise ConfigError(_joined(problems)) from exc


def _joined(problems: list[str]) -> str:
    if len(problems) == 1:
        return problems[0]
    return f"{len(problems)} problems in the configuration:\n" + "\n".join(
        f"  - {p}" for p in problems
    )


def _is_field_name(part: str) -> bool:
    """True for location parts that are field names rather than pydantic union tags."""
    return not (part in {"int", "float", "str", "bool", "list[int]"} or part.startswith("literal["))


def load_config(
    path: str | Path | None = None,
    section: str | None = None,
    overrides: dict[str, Any] | None = None,
) -> Config:
    """Load a configuration: defaults, then ``path``, then the section's file, then ``overrides``.

    Args:
        path: User config YAML (``None``: defaults only).
        section: Section name; ``<sections_dir>/<section>.yaml`` is merged when it exists.
        overrides: Nested mapping from the command line (highest priority).

    Returns:
        The validated configuration.
    """
    layers: list[tuple[str, dict[str, Any]]] = []
    if path is not None:
        layers.append((str(path), read_yaml(Path(path))))
    base = build_config(layers)
    if section is not None:
        section_file = base.sections_dir / f"{section}.yaml"
        if section_file.is_file():
            layers.append((str(section_file), read_yaml(section_file)))
    if overrides:
        layers.append(("command line", overrides))
    return build_config(layers)


def section_config_path(config: Config, section: str) -> Path:
    """Path of a section's override file (it may not exist)."""
    return config.sections_dir / f"{section}.yaml"


def key_origin(
    path: str | Path | None,
    section: str | None,
    overrides: dict[str, Any] | None,
    dotted: str,
) -> str:
    """Where the value of a key comes from in :func:`load_config`'s layering.

    Args:
        path: User config YAML, or ``None``.
        section: Section name (its ``<sections_dir>/<section>.yaml`` is a layer when it exists).
        overrides: Command-line overrides.
        dotted: Key, e.g. ``objective.kl_weight``.

    Returns:
        ``command line``, the path of the section file or config file that sets it last, or
        ``defaults``.
    """
    parts = tuple(dotted.split("."))
    if overrides and _has_key(overrides, parts):
        return "command line"
    if section is not None:
        section_file = section_config_path(load_config(path), section)
        if section_file.is_file() and _has_key(read_yaml(section_file), parts):
            return str(section_file)
    if path is not None and _has_key(read_yaml(Path(path)), parts):
        return str(path)
    return "defaults"
