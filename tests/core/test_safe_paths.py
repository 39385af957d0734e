"""Names from a sandbox on this computer: never outside the chosen folder; Windows's own rules."""

from __future__ import annotations

import os

import pytest

from sesame_desktop.core.safe_paths import UnsafeName, check_part, safe_local_path, windows_name_problem


@pytest.mark.parametrize("name", ["CON", "con", "Nul.txt", "aux.tar.gz", "COM1", "lpt9.log", "CONIN$",
                                  "COM\u00b9", "PRN .txt"])
def test_windows_device_names_are_refused_with_the_reason(name):
    problem = windows_name_problem(name)
    assert problem is not None and "reserves the name" in problem


@pytest.mark.parametrize(("name", "words"), [
    ("a:b", "':'"), ("what?.txt", "'?'"), ('say "hi"', "'\"'"), ("pipe|name", "'|'"), ("star*", "'*'"),
    ("tab\there", "control character 9"), ("trailing.", "ends with a dot or a space"),
    ("trailing ", "ends with a dot or a space"), ("x" * 256, "longer than the 255"),
])
def test_windows_refused_characters_and_endings(name, words):
    problem = windows_name_problem(name)
    assert problem is not None and words in problem


@pytest.mark.parametrize("name", ["CONSOLE", "icon.png", "com10", "COM0", "nul_file", ".gitignore", "a.b.c",
                                  "ünïcode ✓", "x" * 255])
def test_names_windows_takes(name):
    assert windows_name_problem(name) is None
    assert check_part(name, windows=True) == name


def test_check_part_applies_windows_rules_only_when_asked(tmp_path):
    with pytest.raises(UnsafeName, match="reserves the name .CON.*rename it in the session"):
        check_part("CON", windows=True)
    assert check_part("a:b", windows=False) == "a:b"
    with pytest.raises(UnsafeName, match="':'"):
        safe_local_path(tmp_path, ["dir", "a:b"], windows=True)
    assert safe_local_path(tmp_path, ["dir", "a:b"], windows=False) == tmp_path.resolve() / "dir" / "a:b"
    for bad in ("..", "a/b", "a\\b", ""):
        with pytest.raises(UnsafeName):
            check_part(bad, windows=False)


def test_the_default_follows_this_system(tmp_path):
    if os.name == "nt":
        with pytest.raises(UnsafeName):
            safe_local_path(tmp_path, ["trailing."])
    else:
        assert safe_local_path(tmp_path, ["trailing."]).name == "trailing."
