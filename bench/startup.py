"""Start-up benchmark: launch to first shown window, against a bare PySide6 window, same run.

Run from the repository root (Linux, with dbus and gnome-keyring installed)::

    python bench/startup.py             # 7 launches of each, medians
    python bench/startup.py --runs 11

Reports, for the app started from source (``python -m sesame_desktop --smoke --base-dir
<fresh folder>``: a first start, which prints ``smoke: window: ok`` the moment the main window
has been painted; the folder is given as a user's start has one, where a smoke run without
one would first make a temporary folder) and for a bare PySide6 script
that creates a ``QApplication``, shows one ``QMainWindow`` and prints the same line when it is
exposed:

- launch → first shown window, medians; ratio app / bare (target ≤ 2.0); and the CPU time each
  process had used by then (printed on its window line), which a machine busy with other
  work disturbs less than the time;
- the app's peak memory (maximum resident set size) over a start that loads the settings and
  quits (``--quit-after-start``), target ≤ 150 MB;
- what the window does after its first paint, from the smoke run's ``settings`` line: when
  the services (imported and built after the paint) are ready, and the longest stretch of
  that the window handles no input; the session workspace's build in the background (total,
  and its longest step); medians, no target.

The app's own bytecode is compiled first (``compileall``), as installing it does (pip, the
packaged app): a run from a source tree where writing ``__pycache__`` is switched off
(``PYTHONDONTWRITEBYTECODE``) would otherwise time Python's compiler on every launch.

Launches alternate between the two, so machine noise hits both alike. Every app launch gets a
private home and a real gnome-keyring on a private D-Bus session, started once. Exits non-zero
when a target is missed. Results also go to ``bench/results/startup.json``.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WINDOW_LINE = "smoke: window: ok"
RATIO_TARGET = 2.0
MEMORY_TARGET_MB = 150.0

BARE_WINDOW = f"""
import sys
import time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(sys.argv[:1])
window = QMainWindow()
window.setWindowTitle("bare")
window.resize(1100, 720)
window.show()
def check():
    handle = window.windowHandle()
    if handle is not None and handle.isExposed():
        print({WINDOW_LINE!r} + f" ({{time.process_time() * 1000:.0f}} ms of CPU)", flush=True)
        app.quit()
    else:
        QTimer.singleShot(1, check)
QTimer.singleShot(0, check)
app.exec()
"""


CPU = re.compile(r"(\d+) ms of CPU")


def time_to_window(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Seconds from just before ``command`` starts until it prints the window line, and the
    CPU time the process had used by then (from that line)."""
    from bench.packaged_app import launch

    started = launch(command, env)
    cpu = CPU.search(started.window_line)
    if cpu is None:
        sys.exit(f"no CPU time in the window line: {started.window_line!r}")
    return started.to_window, float(cpu.group(1)) / 1000


def peak_memory_mb(command: list[str], env: dict[str, str]) -> float:
    """The maximum resident set size of ``command`` (run to its end), in MB."""
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=errors, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            errors.seek(0)
            sys.exit(f"{' '.join(command)} failed (exit {proc.returncode}):\n"
                     f"{errors.read().decode(errors='replace')[-2000:]}")
    return usage.ru_maxrss / 1024


AFTER_PAINT = re.compile(r"services ready (\d+) ms after the first paint, longest block (\d+) ms; "
                         r"workspace built in (\d+) ms, longest step (\d+) ms")


def after_paint(command: list[str], env: dict[str, str]) -> tuple[float, float, float, float]:
    """(services ready, their longest block, workspace, its longest step), in ms, from one smoke
    run's settings line."""
    out = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, cwd=ROOT)
    found = AFTER_PAINT.search(out.stdout)
    if found is None:
        sys.exit(f"no after-paint figures in the smoke output:\n{out.stdout[-2000:]}")
    ready, block, workspace, longest = (float(x) for x in found.groups())
    return ready, block, workspace, longest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="launches of each (default 7)")
    args = parser.parse_args()

    from bench.packaged_app import keyring_env

    results: dict[str, object] = {}
    compileall.compile_dir(ROOT / "sesame_desktop", quiet=1)  # as an install does
    with tempfile.TemporaryDirectory(prefix="sesame-bench-") as tmp, keyring_env(Path(tmp)) as env:
        bases = iter(Path(tmp) / f"start-{n}" for n in range(10_000))

        def app_cmd() -> list[str]:  # a first start each time, in folders of its own
            return [sys.executable, "-m", "sesame_desktop", "--smoke", "--base-dir", str(next(bases))]

        bare_cmd = [sys.executable, "-c", BARE_WINDOW]
        time_to_window(bare_cmd, env)  # warm the file cache for both
        time_to_window(app_cmd(), env)
        app, bare, app_cpu, bare_cpu = [], [], [], []
        for _ in range(args.runs):
            wall, cpu = time_to_window(bare_cmd, env)
            bare.append(wall)
            bare_cpu.append(cpu)
            wall, cpu = time_to_window(app_cmd(), env)
            app.append(wall)
            app_cpu.append(cpu)
        later = [after_paint(app_cmd(), env) for _ in range(max(3, args.runs // 2))]
        memory = peak_memory_mb([sys.executable, "-m", "sesame_desktop", "--quit-after-start",
                                 "--base-dir", str(Path(tmp) / "base")], env)
    app_s, bare_s = statistics.median(app), statistics.median(bare)
    ratio = app_s / bare_s
    print(f"{'launch -> window':<24} app {app_s * 1000:6.0f} ms   bare PySide6 {bare_s * 1000:6.0f} ms   "
          f"ratio {ratio:4.2f}  (target <= {RATIO_TARGET}; medians of {args.runs}; "
          f"app {min(app) * 1000:.0f}-{max(app) * 1000:.0f}, bare {min(bare) * 1000:.0f}-{max(bare) * 1000:.0f})")
    cpu_app, cpu_bare = statistics.median(app_cpu), statistics.median(bare_cpu)
    print(f"{'CPU used by the window':<24} app {cpu_app * 1000:6.0f} ms   bare PySide6 {cpu_bare * 1000:6.0f} ms   "
          f"ratio {cpu_app / cpu_bare:4.2f}  (the same launches; less sensitive to a busy machine than the time)")
    print(f"{'peak memory at start':<24} {memory:6.0f} MB   (target <= {MEMORY_TARGET_MB:.0f} MB; "
          f"ratio {memory / MEMORY_TARGET_MB:4.2f})")
    ready, block, workspace, longest = (statistics.median(figures) for figures in zip(*later))
    print(f"{'after the first paint':<24} services ready after {ready:.0f} ms (longest block {block:.0f} ms), "
          f"session workspace {workspace:.0f} ms in steps (longest {longest:.0f} ms)  "
          f"(medians of {len(later)}; no target)")
    results.update(app_s=app_s, bare_s=bare_s, ratio=ratio, app_cpu_s=cpu_app, bare_cpu_s=cpu_bare,
                   cpu_ratio=cpu_app / cpu_bare, memory_mb=memory, services_ready_ms=ready,
                   services_longest_block_ms=block, workspace_ms=workspace, workspace_longest_step_ms=longest)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "startup.json").write_text(json.dumps(results, indent=2))
    missed = ratio > RATIO_TARGET or memory > MEMORY_TARGET_MB
    if missed:
        print("target missed", file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.exit(main())
