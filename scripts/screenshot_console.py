"""Render docs/console.png: the console showing real commands' coloured output.

Runs a few real commands (``ls --color``, ``git log`` with colour, and a Python script printing
SGR colours, a carriage-return progress bar, links and an error on stderr), feeds their output
into a ConsoleView offscreen, with the command header and footer lines, and saves a PNG.

    python scripts/screenshot_console.py [--out docs/console.png]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from sesame_desktop.ui.console import ConsoleView  # noqa: E402

DEMO = r"""
import sys, time
E = "\x1b["
print(f"{E}2m15:02:11{E}0m {E}32mINFO{E}0m  resolving dependencies for {E}1msesame-demo{E}0m")
for i in range(0, 101, 4):
    bar = "#" * (i // 4) + " " * (25 - i // 4)
    sys.stdout.write(f"\r{E}36mDownloading{E}0m [{bar}] {i:3d}%")
    sys.stdout.flush()
print()
print(f"{E}2m15:02:12{E}0m {E}33mWARN{E}0m  {E}3mcache is cold{E}0m, first build takes longer")
print(f"{E}2m15:02:13{E}0m {E}32mINFO{E}0m  {E}1;4mbold underline{E}0m {E}7m inverse {E}0m "
      f"{E}9mstrike{E}0m {E}38;5;208m256-colour orange{E}0m "
      f"{E}38;2;120;170;255mtruecolor blue{E}0m")
print("".join(f"{E}48;5;{c}m  " for c in range(16, 232, 6)) + f"{E}0m")
print("".join(f"{E}48;2;{r};{80 + r // 4};{255 - r}m " for r in range(0, 256, 4)) + f"{E}0m")
print(f"{E}2m15:02:14{E}0m {E}32mINFO{E}0m  dev server listening on http://localhost:5173/ "
      f"(docs: \x1b]8;;https://vitejs.dev/guide/\x1b\\Vite guide\x1b]8;;\x1b\\)")
sys.stdout.flush()
print(f"{E}1;31merror{E}0m: test suite failed: 2 of 48 tests failed", file=sys.stderr)
sys.exit(1)
"""


def run_into(view: ConsoleView, title: str, argv: list[str], cwd: Path) -> None:
    """Run ``argv`` for real and feed its stdout/stderr into ``view`` with header lines."""
    started = time.monotonic()
    view.begin_command(title, datetime.now())
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, check=False)
    for stream, data in (("stdout", proc.stdout), ("stderr", proc.stderr)):
        for i in range(0, len(data), 37):  # arbitrary chunking, as a pipe would deliver it
            view.feed(data[i : i + 37], stream)
    signal_name = None
    if proc.returncode < 0:
        import signal

        signal_name = signal.Signals(-proc.returncode).name
    view.end_command(
        proc.returncode if proc.returncode >= 0 else None, signal_name, time.monotonic() - started
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "console.png")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    view = ConsoleView()
    view.resize(1100, 510)
    view.show()
    run_into(view, "ls --color=always -l", ["ls", "--color=always", "-l"], REPO)
    run_into(
        view,
        "git log --oneline --decorate --graph -n 6",
        ["git", "-c", "color.ui=always", "log", "--oneline", "--decorate", "--graph", "-n", "6"],
        REPO,
    )
    run_into(view, "python3 demo_build.py", [sys.executable, "-c", DEMO], REPO)
    loop = QEventLoop()
    QTimer.singleShot(100, loop.quit)  # let the frame timer paint
    loop.exec()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    if not view.grab().save(str(args.out)):
        print(f"could not write {args.out}", file=sys.stderr)
        return 1
    print(f"wrote {args.out}")
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
