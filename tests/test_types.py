"""The type checker runs with the tests: strict on core/ and sandbox/ (see [tool.mypy])."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def mypy(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mypy", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600)


def test_core_and_sandbox_pass_strict_type_checking(tmp_path):
    result = mypy("--config-file", str(REPO / "pyproject.toml"), "--cache-dir", str(tmp_path / "cache"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success" in result.stdout


def test_the_check_can_fail(tmp_path):
    """The same configuration rejects an untyped function: the check above is not a no-op."""
    package = tmp_path / "sesame_desktop" / "core"
    package.mkdir(parents=True)
    (tmp_path / "sesame_desktop" / "sandbox").mkdir()
    (tmp_path / "sesame_desktop" / "sandbox" / "__init__.py").write_text("")
    (tmp_path / "sesame_desktop" / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "untyped.py").write_text("def double(x):\n    return x * 2\n")
    result = mypy("--config-file", str(REPO / "pyproject.toml"), "--cache-dir", str(tmp_path / "cache"),
                  cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "untyped.py:1: error: Function is missing a type annotation" in result.stdout
