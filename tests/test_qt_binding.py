"""The installed PySide6 survives a streaming console's worth of void calls.

PySide6 6.12.0 on CPython 3.11 drops a reference to None on every call that returns nothing
and aborts the process after a few thousand. The pin in pyproject.toml keeps that pair out;
this test makes sure no future release brings the crash back unnoticed. It runs in a child
process so that an abort fails this test instead of killing the whole run.
"""

import subprocess
import sys

CALLS = 100_000

SCRIPT = f"""
import sys
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import QApplication, QLabel
app = QApplication([])
label = QLabel()
pen = QPen()
refs = sys.getrefcount(None)
for i in range({CALLS} // 4):
    pen.setWidth(i % 7)               # void
    pen.setColor(QColor(i % 255, 0, 0))  # void
    label.setText("x")                 # void
    label.setEnabled(bool(i & 1))      # void
print("calls", {CALLS}, "none-refs-lost", refs - sys.getrefcount(None))
"""


def test_100k_void_qt_calls_survive():
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        timeout=120,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, f"Qt process died ({result.returncode}): {result.stderr[-2000:]}"
    calls, lost = result.stdout.split()[1::2]
    assert int(calls) == CALLS
    assert int(lost) < 1000, f"PySide6 leaks references to None: {lost} lost in {CALLS} calls"


def test_the_pin_keeps_the_broken_pair_out():
    from importlib.metadata import requires

    from packaging.requirements import Requirement

    pyside = [Requirement(r) for r in requires("sesame-desktop") or [] if r.startswith("PySide6")]
    assert pyside, "PySide6 is not a dependency"
    for python, version, allowed in (("3.11", "6.12.0", False), ("3.11", "6.11.3", True),
                                     ("3.12", "6.12.0", True), ("3.13", "6.12.0", True)):
        env = {"python_version": python, "extra": ""}
        applicable = [r for r in pyside if r.marker is None or r.marker.evaluate(env)]
        assert applicable, f"no PySide6 requirement applies to Python {python}"
        ok = all(r.specifier.contains(version, prereleases=True) for r in applicable)
        assert ok is allowed, f"PySide6 {version} on Python {python}: allowed={ok}"
