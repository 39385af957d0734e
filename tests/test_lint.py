"""Code that cannot work (undefined names, syntax errors, unused imports) fails the suite."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_pyflakes_class_errors_are_absent():
    ruff = Path(sys.executable).with_name("ruff")
    result = subprocess.run(
        [str(ruff), "check", "--no-cache", "--select", "F,E9", "sesame_desktop", "tests", "bench", "scripts",
         "packaging"],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
