"""Moving the key out of config.json keeps the rest of the file as it was."""

import json
import stat

from sesame_desktop.core.jsonfile import detect_indent, remove_api_key, write_json_atomic


def test_remove_api_key_keeps_everything_else(tmp_path):
    path = tmp_path / "config.json"
    original = {
        "theme": "dark",
        "sandboxProvider": {"type": "e2b", "e2b": {"apiKey": "e2b_secret", "timeout": 60000, "template": "t"}},
        "agents": [1, 2, {"ü": "unicode"}],
    }
    path.write_text(json.dumps(original, indent=4, ensure_ascii=False))
    path.chmod(0o640)
    assert remove_api_key(path) is True
    text = path.read_text()
    assert "e2b_secret" not in text
    data = json.loads(text)
    del original["sandboxProvider"]["e2b"]["apiKey"]
    assert data == original
    assert list(data) == ["theme", "sandboxProvider", "agents"]
    assert detect_indent(text) == 4
    assert "ü" in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert remove_api_key(path) is False
    assert [p.name for p in tmp_path.iterdir()] == ["config.json"]


def test_write_json_atomic_creates_folders(tmp_path):
    path = tmp_path / "a" / "b" / "settings.json"
    write_json_atomic(path, {"x": 1})
    assert json.loads(path.read_text()) == {"x": 1}


def test_detect_indent():
    assert detect_indent('{"a": 1}') is None
    assert detect_indent('{\n  "a": 1\n}') == 2
    assert detect_indent('{\n\t"a": 1\n}') == "\t"
