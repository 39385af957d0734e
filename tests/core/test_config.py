"""The configuration: environment, config.json, saved settings, defaults, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sesame_desktop.core.config import (
    DEFAULT_TIMEOUT_MS,
    ConfigError,
    OriginKind,
    PartialConfig,
    Provider,
    from_environment,
    load_config_file,
    parse_config_text,
    resolve,
)
from sesame_desktop.core.settings import AppSettings, load_settings, save_settings


def write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_defaults_when_nothing_is_set():
    config = resolve(from_environment({}), None, AppSettings().as_partial())
    assert config.provider.value is Provider.LOCAL
    assert config.timeout_ms.value == DEFAULT_TIMEOUT_MS
    assert config.template.value == ""
    assert config.provider.origin.kind is OriginKind.DEFAULT
    assert config.api_key_origin.kind is OriginKind.KEYRING
    assert config.problems == ()


def test_sesame_config_file_is_read(tmp_path):
    path = write(tmp_path / "config.json", {
        "sandboxProvider": {"type": "e2b", "e2b": {"timeout": 120000, "template": "my-agent"}},
        "somethingElse": {"kept": True},
    })
    config = resolve(from_environment({}), load_config_file(path), AppSettings().as_partial())
    assert config.provider.value is Provider.E2B
    assert config.timeout_ms.value == 120_000
    assert config.template.value == "my-agent"
    assert config.timeout_ms.origin.kind is OriginKind.CONFIG_FILE
    assert config.timeout_ms.origin.detail == str(path)
    assert config.timeout_ms.origin.locked


def test_environment_beats_file_beats_settings(tmp_path):
    path = write(tmp_path / "config.json", {"sandboxProvider": {"type": "local", "e2b": {"timeout": 120000}}})
    env = from_environment({"SANDBOX_PROVIDER": "E2B", "E2B_SANDBOX_TEMPLATE": "base"})
    saved = AppSettings(provider=Provider.LOCAL, timeout_ms=60_000, template="other").as_partial()
    config = resolve(env, load_config_file(path), saved)
    assert config.provider.value is Provider.E2B
    assert config.provider.origin.detail == "SANDBOX_PROVIDER"
    assert config.timeout_ms.value == 120_000
    assert config.template.value == "base"
    assert config.template.origin.detail == "E2B_SANDBOX_TEMPLATE"
    only_saved = resolve(from_environment({}), None, saved)
    assert (only_saved.timeout_ms.value, only_saved.template.value) == (60_000, "other")
    assert only_saved.timeout_ms.origin.kind is OriginKind.SETTINGS
    assert not only_saved.timeout_ms.origin.locked


def test_api_key_from_environment_is_a_masked_secret():
    env = from_environment({"E2B_API_KEY": "e2b_0123456789abcdef"})
    assert env.api_key is not None and env.api_key.reveal() == "e2b_0123456789abcdef"
    assert "0123456789" not in repr(env) + str(env) + f"{env.api_key}"
    assert resolve(env, None, AppSettings().as_partial()).api_key_origin.detail == "E2B_API_KEY"


@pytest.mark.parametrize(
    ("environ", "fragment"),
    [
        ({"SANDBOX_PROVIDER": "docker"}, "unknown provider 'docker'"),
        ({"E2B_SANDBOX_TIMEOUT": "soon"}, "not 'soon'"),
        ({"E2B_SANDBOX_TIMEOUT": "-5"}, "at least 1000"),
        ({"E2B_SANDBOX_TIMEOUT": "1.5"}, "whole number"),
        ({"E2B_SANDBOX_TIMEOUT": "999999999999"}, "at most"),
        ({"E2B_SANDBOX_TEMPLATE": "has space"}, "spaces"),
    ],
)
def test_bad_environment_values_are_reported_and_ignored(environ, fragment):
    config = resolve(from_environment(environ), None, AppSettings().as_partial())
    (problem,) = config.problems
    assert problem.source == next(iter(environ))
    assert fragment in problem.message
    assert config.provider.value is Provider.LOCAL
    assert config.timeout_ms.value == DEFAULT_TIMEOUT_MS


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("{not json", "is not valid JSON"),
        ("", "is not valid JSON"),
        ("[1, 2]", "must hold a JSON object"),
        (b"\xff\xfe\x00garbage", "is not UTF-8"),
    ],
)
def test_unusable_config_file_raises_config_error_naming_the_file(text, fragment):
    with pytest.raises(ConfigError) as info:
        parse_config_text(text, "/some/config.json")
    assert info.value.source == "/some/config.json"
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"sandboxProvider": "e2b"}, "\"sandboxProvider\" must be an object"),
        ({"sandboxProvider": {"type": 3}}, "must be text"),
        ({"sandboxProvider": {"type": "kubernetes"}}, "unknown provider 'kubernetes'"),
        ({"sandboxProvider": {"e2b": []}}, "\"sandboxProvider.e2b\" must be an object"),
        ({"sandboxProvider": {"e2b": {"timeout": -1}}}, "at least 1000"),
        ({"sandboxProvider": {"e2b": {"timeout": "an hour"}}}, "not 'an hour'"),
        ({"sandboxProvider": {"e2b": {"timeout": True}}}, "not true/false"),
        ({"sandboxProvider": {"e2b": {"timeout": 1e400}}}, "far too large"),
        ({"sandboxProvider": {"e2b": {"template": ["x"]}}}, "must be text"),
        ({"sandboxProvider": {"e2b": {"apiKey": 12}}}, "must be text"),
    ],
)
def test_wrong_fields_in_config_file_are_reported_and_defaults_used(tmp_path, data, fragment):
    path = write(tmp_path / "config.json", data)
    partial = load_config_file(path)
    config = resolve(from_environment({}), partial, AppSettings().as_partial())
    assert len(config.problems) == 1
    assert config.problems[0].source == str(path)
    assert fragment in config.problems[0].message
    assert config.provider.value is Provider.LOCAL
    assert config.timeout_ms.value == DEFAULT_TIMEOUT_MS


def test_missing_config_file_sets_nothing(tmp_path):
    partial = load_config_file(tmp_path / "absent.json")
    assert partial == PartialConfig(origin=partial.origin)


def test_config_path_that_is_a_folder(tmp_path):
    with pytest.raises(ConfigError, match="is a folder"):
        load_config_file(tmp_path)


def test_config_file_that_cannot_be_read_as_root_too(tmp_path):
    """A FIFO with no writer would block; a dangling symlink is a real unreadable file."""
    link = tmp_path / "config.json"
    link.symlink_to(tmp_path / "loop.json")
    (tmp_path / "loop.json").symlink_to(link)
    with pytest.raises(ConfigError, match="cannot be read"):
        load_config_file(link)


def test_saved_settings_round_trip_and_broken_file(tmp_path):
    path = tmp_path / "desktop-settings.json"
    saved = AppSettings(provider=Provider.E2B, timeout_ms=7_200_000, template="t", welcome_dismissed=True)
    save_settings(path, saved)
    assert load_settings(path) == (saved, ())
    path.write_text("{oops")
    settings_, problems = load_settings(path)
    assert settings_ == AppSettings()
    assert problems and str(path) in str(problems[0])


# -- fuzzing: the loader raises nothing but ConfigError ---------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
keys = st.sampled_from(["type", "e2b", "timeout", "template", "apiKey", "sandboxProvider", "x"])
sesame_shaped = st.recursive(
    json_values,
    lambda children: st.dictionaries(keys, children, max_size=5),
    max_leaves=25,
)


def _parse_or_config_error(data: str | bytes) -> None:
    try:
        partial = parse_config_text(data, "fuzz.json")
    except ConfigError:
        return
    resolve(from_environment({}), partial, AppSettings().as_partial())


@settings(max_examples=300, deadline=None)
@given(sesame_shaped)
def test_fuzz_json_structures(data):
    _parse_or_config_error(json.dumps(data))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200) | st.binary(max_size=200))
def test_fuzz_arbitrary_text_and_bytes(data):
    _parse_or_config_error(data)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["SANDBOX_PROVIDER", "E2B_API_KEY", "E2B_SANDBOX_TIMEOUT",
                                        "E2B_SANDBOX_TEMPLATE"]), st.text(max_size=40)))
def test_fuzz_environment(environ):
    resolve(from_environment(environ), None, AppSettings().as_partial())


def test_deeply_nested_json_is_a_config_error_not_a_crash():
    _parse_or_config_error("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ConfigError):
        parse_config_text("[" * 100_000 + "]" * 100_000, "deep.json")


def test_a_unicode_api_key_is_refused_in_plain_words():
    from sesame_desktop.core.config import parse_api_key

    with pytest.raises(ValueError) as caught:
        parse_api_key("e2b_ключ0123456789")
    assert "copy it again from the E2B dashboard" in str(caught.value)
    env = from_environment({"E2B_API_KEY": "e2b_\u00e90123456789"})
    assert env.api_key is None and "plain letters" in env.problems[0].message


@pytest.mark.parametrize("raw", ["5" * 5000, "-" + "9" * 5000])
def test_a_5000_digit_timeout_is_refused_in_plain_words(tmp_path, raw):
    env = from_environment({"E2B_SANDBOX_TIMEOUT": raw})
    assert env.timeout_ms is None
    assert "at most 86400000 ms (24 hours)" in env.problems[0].message
    assert len(env.problems[0].message) < 200
    path = tmp_path / "config.json"
    path.write_text('{"sandboxProvider": {"e2b": {"timeout": %s}}}' % raw)
    partial = load_config_file(path)
    assert partial.timeout_ms is None
    assert "ValueError" not in partial.problems[0].message and "digits" not in partial.problems[0].message
    assert ("at most" in partial.problems[0].message) or ("at least" in partial.problems[0].message)
