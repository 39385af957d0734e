"""The settings saved in the app (below the environment and ``config.json`` in precedence)."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sesame_desktop.core.config import (
    ConfigError,
    ConfigProblem,
    Origin,
    OriginKind,
    PartialConfig,
    Provider,
    json_int,
    parse_provider,
    parse_scrollback_mb,
    parse_template,
    parse_timeout_ms,
)
from sesame_desktop.core.jsonfile import FileTooLarge, NotARegularFile, read_regular_file, write_json_atomic


@dataclass(frozen=True)
class AppSettings:
    """What the user saved in the settings dialog, and what the app remembers between runs."""

    provider: Provider | None = None
    timeout_ms: int | None = None
    template: str | None = None
    welcome_dismissed: bool = False
    scrollback_mb: int | None = None
    """The console's scrollback limit in megabytes (None: the default)."""

    def with_changes(self, **changes: Any) -> AppSettings:
        return replace(self, **changes)

    def as_partial(self, problems: tuple[ConfigProblem, ...] = ()) -> PartialConfig:
        return PartialConfig(
            origin=Origin(OriginKind.SETTINGS),
            provider=self.provider,
            timeout_ms=self.timeout_ms,
            template=self.template,
            problems=problems,
            scrollback_mb=self.scrollback_mb,
        )

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"welcomeDismissed": self.welcome_dismissed}
        if self.provider is not None:
            data["provider"] = self.provider.value
        if self.timeout_ms is not None:
            data["timeoutMs"] = self.timeout_ms
        if self.template is not None:
            data["template"] = self.template
        if self.scrollback_mb is not None:
            data["scrollbackMb"] = self.scrollback_mb
        return data


def load_settings(path: Path) -> tuple[AppSettings, tuple[ConfigProblem, ...]]:
    """Read the saved settings; a missing or broken file gives defaults and says why."""
    source = str(path)
    try:
        data = json.loads(read_regular_file(path).decode("utf-8"), parse_int=json_int)
    except FileNotFoundError:
        return AppSettings(), ()
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        if isinstance(exc, NotARegularFile):
            reason = f"it is {exc.kind}, not a regular file"
        elif isinstance(exc, FileTooLarge):
            reason = "it is far too large for a settings file"
        else:
            reason = getattr(exc, "strerror", None) or type(exc).__name__
        return AppSettings(), (ConfigProblem(source, f"cannot be used ({reason}); using defaults"),)
    if not isinstance(data, dict):
        return AppSettings(), (ConfigProblem(source, "is not a JSON object; using defaults"),)
    problems: list[ConfigProblem] = []
    values: dict[str, Any] = {"welcome_dismissed": data.get("welcomeDismissed") is True}
    for name, key, parse in (
        ("provider", "provider", parse_provider),
        ("timeoutMs", "timeout_ms", parse_timeout_ms),
        ("template", "template", parse_template),
        ("scrollbackMb", "scrollback_mb", parse_scrollback_mb),
    ):
        if data.get(name) is None:
            continue
        try:
            values[key] = parse(data[name])
        except ValueError as exc:
            problems.append(ConfigProblem(source, f"\"{name}\": {exc}"))
    return AppSettings(**values), tuple(problems)


def save_settings(path: Path, settings: AppSettings) -> None:
    """Write the saved settings.

    Raises:
        ConfigError: the file cannot be written.
    """
    try:
        write_json_atomic(path, settings.to_json())
    except OSError as exc:
        raise ConfigError(str(path), f"cannot be written: {exc.strerror or exc}") from None
