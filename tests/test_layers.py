"""The layer lines of DESIGN.md are held by import-linter, and the check can fail."""

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def run_linter(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
    )


def test_the_tree_keeps_its_layers():
    result = run_linter(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_core_module_importing_qt_breaks_the_check(tmp_path):
    shutil.copytree(REPO / "sesame_desktop", tmp_path / "sesame_desktop",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    (tmp_path / "sesame_desktop" / "core" / "leak.py").write_text("from PySide6 import QtCore\n")
    (tmp_path / "sesame_desktop" / "ui" / "leak.py").write_text("import e2b\n")
    result = run_linter(tmp_path)
    assert result.returncode != 0
    assert "core imports neither Qt nor e2b BROKEN" in result.stdout
    assert "services and ui import no e2b BROKEN" in result.stdout
