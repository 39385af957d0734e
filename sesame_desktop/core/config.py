"""Configuration compatible with the Sesame conventions.

Four sources, highest first: the environment (``SANDBOX_PROVIDER``, ``E2B_API_KEY``,
``E2B_SANDBOX_TIMEOUT``, ``E2B_SANDBOX_TEMPLATE``), a Sesame-style ``config.json``
(``sandboxProvider.type``, ``sandboxProvider.e2b.{apiKey,timeout,template}``), the settings
saved in the app, and the defaults. :func:`resolve` merges them and records where each value
came from, so the settings dialog can lock what the environment sets and name the source.

Nothing here raises anything but :class:`ConfigError`; a bad value is reported as a
:class:`ConfigProblem` and the next source (in the end the default) is used instead.
"""

from __future__ import annotations

import enum
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sesame_desktop.core.jsonfile import MAX_CONFIG_BYTES, FileTooLarge, NotARegularFile, read_regular_file
from sesame_desktop.core.secret import Secret

ENV_PROVIDER = "SANDBOX_PROVIDER"
ENV_API_KEY = "E2B_API_KEY"
ENV_TIMEOUT = "E2B_SANDBOX_TIMEOUT"
ENV_TEMPLATE = "E2B_SANDBOX_TEMPLATE"

DEFAULT_TIMEOUT_MS = 3_600_000
MIN_TIMEOUT_MS = 1_000
MAX_TIMEOUT_MS = 24 * 3_600_000  # E2B's longest sandbox lifetime
MAX_TEMPLATE_LENGTH = 128
MAX_KEY_LENGTH = 256
MAX_NUMBER_TEXT = 100  # characters: longer number texts are refused before int() sees them


class Provider(enum.Enum):
    """Where sessions run."""

    LOCAL = "local"
    E2B = "e2b"

    @property
    def label(self) -> str:
        return {"local": "Local", "e2b": "E2B"}[self.value]


class OriginKind(enum.Enum):
    ENVIRONMENT = "environment"
    CONFIG_FILE = "config file"
    SETTINGS = "settings"
    KEYRING = "keyring"
    DEFAULT = "default"


@dataclass(frozen=True)
class Origin:
    """Where a value came from.

    Attributes:
        kind: the source.
        detail: the variable name for the environment, the file path for ``config.json``.
    """

    kind: OriginKind
    detail: str = ""

    @property
    def locked(self) -> bool:
        """A value set outside the app cannot be changed in the settings dialog."""
        return self.kind in (OriginKind.ENVIRONMENT, OriginKind.CONFIG_FILE)

    def describe(self) -> str:
        if self.kind is OriginKind.ENVIRONMENT:
            return f"set by the environment variable {self.detail}"
        if self.kind is OriginKind.CONFIG_FILE:
            return f"set in {self.detail}"
        if self.kind is OriginKind.KEYRING:
            return "stored in the system keyring"
        if self.kind is OriginKind.SETTINGS:
            return "saved in Sesame Desktop's settings"
        return "default"


DEFAULT = Origin(OriginKind.DEFAULT)


class ConfigError(Exception):
    """A configuration source that cannot be used at all (unreadable, not JSON, not an object).

    Attributes:
        source: the file or variable at fault.
        reason: what is wrong, in plain words.
    """

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


@dataclass(frozen=True)
class ConfigProblem:
    """One value that was ignored, and why."""

    source: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.message}"


@dataclass(frozen=True)
class PartialConfig:
    """The values one source sets; ``None`` where it sets nothing usable.

    Attributes:
        origin: where these values come from (for ``config.json``, its path).
        api_key: only ever from the environment or a ``config.json`` awaiting migration.
        problems: values the source set but that could not be used.
    """

    origin: Origin
    provider: Provider | None = None
    timeout_ms: int | None = None
    template: str | None = None
    api_key: Secret | None = None
    problems: tuple[ConfigProblem, ...] = ()
    scrollback_mb: int | None = None


@dataclass(frozen=True)
class Setting:
    """An effective value and its origin."""

    value: Any
    origin: Origin


@dataclass(frozen=True)
class EffectiveConfig:
    """The merged configuration. Holds no secret: only where the key comes from.

    Attributes:
        api_key_origin: the environment when ``E2B_API_KEY`` is set, else the keyring (which
            may or may not hold a key; the secret store knows).
        problems: every ignored value of every source, for the user to see.
    """

    provider: Setting
    timeout_ms: Setting
    template: Setting
    api_key_origin: Origin
    config_path: Path | None = None
    problems: tuple[ConfigProblem, ...] = field(default=())
    scrollback_mb: int = 0
    """Megabytes of text a session's console keeps at most (0: :data:`DEFAULT_SCROLLBACK_MB`)."""

    @property
    def timeout_s(self) -> int:
        return max(1, int(self.timeout_ms.value) // 1000)

    @property
    def scrollback_chars(self) -> int:
        """Characters a new session's console keeps at most (its oldest lines go first)."""
        return (self.scrollback_mb or DEFAULT_SCROLLBACK_MB) << 20


# -- validation of single values ------------------------------------------------------------


def parse_provider(value: object) -> Provider:
    if not isinstance(value, str):
        raise ValueError(f"the provider must be text (\"local\" or \"e2b\"), not {_kind(value)}")
    try:
        return Provider(value.strip().lower())
    except ValueError:
        raise ValueError(f"unknown provider {value[:40]!r}: use \"local\" or \"e2b\"") from None


DEFAULT_SCROLLBACK_MB = 64
MIN_SCROLLBACK_MB = 1
MAX_SCROLLBACK_MB = 4096


def parse_scrollback_mb(value: object) -> int:
    """The console's scrollback limit in megabytes: a whole number from 1 to 4096."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"the scrollback limit must be a whole number of megabytes, not {_kind(value)}")
    if not MIN_SCROLLBACK_MB <= value <= MAX_SCROLLBACK_MB:
        raise ValueError(f"the scrollback limit must be from {MIN_SCROLLBACK_MB} to {MAX_SCROLLBACK_MB} MB, "
                         f"not {value}")
    return value


def parse_timeout_ms(value: object) -> int:
    """A lifetime in milliseconds: a whole positive number, as a JSON number or text."""
    if isinstance(value, bool):
        raise ValueError(f"the timeout must be a number of milliseconds, not {_kind(value)}")
    if isinstance(value, str):
        text = value.strip()
        if len(text) > MAX_NUMBER_TEXT:
            raise ValueError(f"the timeout is a number {len(text):,} characters long; it can be at most "
                             f"{MAX_TIMEOUT_MS} ms (24 hours)")
        try:
            number: float = int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                raise ValueError(
                    f"the timeout must be a number of milliseconds, not {value[:40]!r}"
                ) from None
    elif isinstance(value, int | float):
        number = value
    else:
        raise ValueError(f"the timeout must be a number of milliseconds, not {_kind(value)}")
    if isinstance(number, float) and math.isinf(number):
        raise ValueError(f"the timeout is far too large: it can be at most {MAX_TIMEOUT_MS} ms (24 hours)")
    if isinstance(number, float) and (not math.isfinite(number) or not number.is_integer()):
        raise ValueError(f"the timeout must be a whole number of milliseconds, not {str(value)[:40]!r}")
    ms = int(number)
    if ms < MIN_TIMEOUT_MS:
        raise ValueError(f"the timeout must be at least {MIN_TIMEOUT_MS} ms (1 second), not {ms}")
    if ms > MAX_TIMEOUT_MS:
        raise ValueError(f"the timeout can be at most {MAX_TIMEOUT_MS} ms (24 hours), not {ms}")
    return ms


def parse_template(value: object) -> str:
    """A template name or ID; empty text means E2B's default template."""
    if not isinstance(value, str):
        raise ValueError(f"the template must be text, not {_kind(value)}")
    text = value.strip()
    if len(text) > MAX_TEMPLATE_LENGTH:
        raise ValueError(f"the template name is longer than {MAX_TEMPLATE_LENGTH} characters")
    if any(ch.isspace() or not ch.isprintable() for ch in text):
        raise ValueError(f"the template name {text[:40]!r} contains spaces or control characters")
    return text


def parse_api_key(value: object) -> Secret:
    if not isinstance(value, str):
        raise ValueError(f"the API key must be text, not {_kind(value)}")
    text = value.strip()
    if not text:
        raise ValueError("the API key is empty")
    if any(ch.isspace() or not ch.isprintable() for ch in text):
        raise ValueError("the API key contains spaces or control characters")
    if not text.isascii():
        raise ValueError("the API key contains characters that are not plain letters, digits or punctuation "
                         "(E2B keys never do): copy it again from the E2B dashboard")
    if len(text) > MAX_KEY_LENGTH:
        raise ValueError(f"the API key is longer than {MAX_KEY_LENGTH} characters: copy only the key")
    return Secret(text)


def json_int(text: str) -> int | float:
    """``parse_int`` for ``json.loads``: a number too long for ``int`` is infinite, not an error."""
    if len(text) > MAX_NUMBER_TEXT:
        return -math.inf if text.startswith("-") else math.inf
    return int(text)


def _kind(value: object) -> str:
    if value is None:
        return "null"
    return {bool: "true/false", int: "a number", float: "a number", str: "text",
            list: "a list", dict: "an object"}.get(type(value), type(value).__name__)


# -- sources ---------------------------------------------------------------------------------


def from_environment(environ: Mapping[str, str]) -> PartialConfig:
    """The values the environment sets. Empty variables count as unset."""
    values: dict[str, Any] = {}
    problems: list[ConfigProblem] = []
    for var, key, parse in (
        (ENV_PROVIDER, "provider", parse_provider),
        (ENV_TIMEOUT, "timeout_ms", parse_timeout_ms),
        (ENV_TEMPLATE, "template", parse_template),
        (ENV_API_KEY, "api_key", parse_api_key),
    ):
        raw = environ.get(var)
        if raw is None or raw.strip() == "":
            continue
        try:
            values[key] = parse(raw)
        except ValueError as exc:
            problems.append(ConfigProblem(var, str(exc)))
    return PartialConfig(origin=Origin(OriginKind.ENVIRONMENT), problems=tuple(problems), **values)


def parse_config_text(text: str | bytes, source: str) -> PartialConfig:
    """Parse a Sesame-style ``config.json``.

    Raises:
        ConfigError: the text is not UTF-8 JSON with an object at the top.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ConfigError(source, f"is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        data = json.loads(text, parse_int=json_int)
    except json.JSONDecodeError as exc:
        raise ConfigError(source, f"is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    except (ValueError, RecursionError) as exc:
        raise ConfigError(source, f"is not valid JSON: {type(exc).__name__}") from None
    if not isinstance(data, dict):
        raise ConfigError(source, f"must hold a JSON object at the top, not {_kind(data)}")

    origin = Origin(OriginKind.CONFIG_FILE, source)
    problems: list[ConfigProblem] = []
    values: dict[str, Any] = {}

    provider_section = data.get("sandboxProvider")
    if provider_section is None:
        return PartialConfig(origin=origin)
    if not isinstance(provider_section, dict):
        problems.append(ConfigProblem(source, f"\"sandboxProvider\" must be an object, not {_kind(provider_section)}"))
        return PartialConfig(origin=origin, problems=tuple(problems))

    def take(name: str, raw: object, key: str, parse: Callable[[object], object]) -> None:
        try:
            values[key] = parse(raw)
        except ValueError as exc:
            problems.append(ConfigProblem(source, f"\"{name}\": {exc}"))

    if "type" in provider_section:
        take("sandboxProvider.type", provider_section["type"], "provider", parse_provider)
    e2b = provider_section.get("e2b")
    if e2b is not None:
        if not isinstance(e2b, dict):
            problems.append(ConfigProblem(source, f"\"sandboxProvider.e2b\" must be an object, not {_kind(e2b)}"))
        else:
            if e2b.get("timeout") is not None:
                take("sandboxProvider.e2b.timeout", e2b["timeout"], "timeout_ms", parse_timeout_ms)
            if e2b.get("template") is not None:
                take("sandboxProvider.e2b.template", e2b["template"], "template", parse_template)
            if e2b.get("apiKey") not in (None, ""):
                take("sandboxProvider.e2b.apiKey", e2b["apiKey"], "api_key", parse_api_key)
    return PartialConfig(origin=origin, problems=tuple(problems), **values)


def load_config_file(path: Path) -> PartialConfig:
    """Read ``config.json``; a missing file sets nothing.

    Raises:
        ConfigError: the file exists but cannot be read or parsed.
    """
    try:
        data = read_regular_file(path, MAX_CONFIG_BYTES)
    except FileNotFoundError:
        return PartialConfig(origin=Origin(OriginKind.CONFIG_FILE, str(path)))
    except IsADirectoryError:
        raise ConfigError(str(path), "is a folder, not a file") from None
    except NotARegularFile as exc:
        raise ConfigError(str(path), f"is {exc.kind}, not a regular file; it is not read") from None
    except FileTooLarge:
        raise ConfigError(str(path), f"is larger than {MAX_CONFIG_BYTES // 1024} KB; a config file is a few lines"
                          ) from None
    except PermissionError:
        raise ConfigError(str(path), "cannot be read: permission denied") from None
    except OSError as exc:
        raise ConfigError(str(path), f"cannot be read: {exc.strerror or exc}") from None
    return parse_config_text(data, str(path))


def resolve(
    environment: PartialConfig,
    config_file: PartialConfig | None,
    settings: PartialConfig,
    *,
    config_path: Path | None = None,
    extra_problems: tuple[ConfigProblem, ...] = (),
) -> EffectiveConfig:
    """Merge the sources: environment > config.json > saved settings > defaults."""
    layers = [environment, *( [config_file] if config_file else []), settings]

    def pick(attr: str, default: Any) -> Setting:
        for layer in layers:
            value = getattr(layer, attr)
            if value is not None:
                origin = layer.origin
                if origin.kind is OriginKind.ENVIRONMENT:
                    origin = Origin(OriginKind.ENVIRONMENT, _ENV_NAMES[attr])
                return Setting(value, origin)
        return Setting(default, DEFAULT)

    key_origin = (
        Origin(OriginKind.ENVIRONMENT, ENV_API_KEY)
        if environment.api_key is not None
        else Origin(OriginKind.KEYRING)
    )
    problems = [*extra_problems]
    for layer in layers:
        problems.extend(layer.problems)
    return EffectiveConfig(
        provider=pick("provider", Provider.LOCAL),
        timeout_ms=pick("timeout_ms", DEFAULT_TIMEOUT_MS),
        template=pick("template", ""),
        api_key_origin=key_origin,
        config_path=config_path,
        problems=tuple(problems),
        scrollback_mb=settings.scrollback_mb or DEFAULT_SCROLLBACK_MB,
    )


_ENV_NAMES = {
    "provider": ENV_PROVIDER,
    "timeout_ms": ENV_TIMEOUT,
    "template": ENV_TEMPLATE,
    "api_key": ENV_API_KEY,
}
