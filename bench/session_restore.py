"""Relaunch after ``kill -9`` → every session reattached, against a plain start of the app.

    python bench/session_restore.py [--runs 3]

Against the local E2B-compatible server (tests/e2b_server), with the real app as a process:

- baseline: the app started on an empty data folder with a scripted run that does nothing,
  from process start to its report (what any start costs: Python, Qt, the window, settings);
- relaunch: the app with 3 E2B sessions (a foreground counter, an idle one, one with a dev
  server in the background) is killed with SIGKILL; it is started again, and the time from
  process start to the moment every session is reattached (running or idle, the dev server's
  port listed again) is measured the same way.

It prints the median of each, the ratio relaunch/baseline (target: below 2.0, i.e. reattaching
three sessions costs less than a second start) and the absolute reattach time inside the app
(target: under 3 s), and the fault figures of the runs: records lost, sandboxes killed by the
app, sandboxes left running after the final quit. Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.e2b_server.pytest_plugin import E2BServer  # noqa: E402

TARGET_RATIO = 2.0
TARGET_REATTACH_S = 3.0
TICKER = 'i=0; while true; do i=$((i+1)); echo "tick-$i"; sleep 0.2; done'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_env(server: E2BServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("E2B_", "SANDBOX_"))}
    env.update({"QT_QPA_PLATFORM": "offscreen", "SANDBOX_PROVIDER": "e2b", **server.env})
    return env


def run_script(base: Path, script: dict, env: dict[str, str], *, kill: bool) -> tuple[dict, float]:
    """Start the app with ``script``; the report and the seconds from start to the report."""
    path = base.parent / f"script-{time.monotonic_ns()}.json"
    report = Path(script["report"])
    path.write_text(json.dumps(script))
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "sesame_desktop", "--base-dir", str(base), "--script", str(path)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)
    try:
        while not report.exists():
            if proc.poll() is not None:
                raise RuntimeError(f"the app exited with {proc.returncode} before its report")
            time.sleep(0.01)
        elapsed = time.perf_counter() - started
        data = json.loads(report.read_text())
        if kill:
            proc.send_signal(signal.SIGKILL)
        proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return data, elapsed


def one_run(server: E2BServer, work: Path) -> dict[str, float]:
    env = app_env(server)
    empty = work / "empty"
    _, baseline = run_script(empty, {"report": str(work / "b.json"), "quit": True}, env, kill=False)
    base = work / "base"
    port = free_port()
    before, _ = run_script(base, {
        "start": [{"name": "ticker", "task": TICKER}, {"name": "quiet"},
                  {"name": "server", "background": [f"python3 -m http.server {port} --bind 0.0.0.0"]}],
        "wait_ports": {"server": [port]}, "report": str(work / "r1.json")}, env, kill=True)
    ids = {s["sandbox_id"] for s in before["sessions"]}
    killed_by_app = sum(1 for sid in ids if not server.is_alive(sid))
    after, relaunch = run_script(base, {"wait_ports": {"server": [port]}, "report": str(work / "r2.json"),
                                        "quit": True}, env, kill=False)
    lost = len(ids - {s["sandbox_id"] for s in after["sessions"]})
    left_running = sum(1 for sid in ids if server.is_alive(sid))
    for sid in ids:
        server.kill_sandbox(sid)
    return {"baseline": baseline, "relaunch": relaunch, "in_app": after["ready_s"], "lost": lost,
            "killed": killed_by_app, "left": left_running}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    server = E2BServer.start("--api-key", "e2b_bench_key")
    runs = []
    try:
        for i in range(args.runs):
            with tempfile.TemporaryDirectory(prefix="sesame-bench-restore-") as tmp:
                runs.append(one_run(server, Path(tmp)))
            print(f"run {i + 1}: " + ", ".join(f"{k} {v:.2f}" for k, v in runs[-1].items()))
    finally:
        server.stop()
    baseline = statistics.median(r["baseline"] for r in runs)
    relaunch = statistics.median(r["relaunch"] for r in runs)
    in_app = statistics.median(r["in_app"] for r in runs)
    ratio = relaunch / baseline
    lost = sum(int(r["lost"]) for r in runs)
    killed = sum(int(r["killed"]) for r in runs)
    left = sum(int(r["left"]) for r in runs)
    print(f"baseline start (empty app) to report: {baseline:.2f} s (median of {len(runs)})")
    print(f"relaunch after kill -9 to all 3 reattached: {relaunch:.2f} s; ratio {ratio:.2f} (target < {TARGET_RATIO})")
    print(f"inside the app, start to all reattached: {in_app:.2f} s (target < {TARGET_REATTACH_S} s)")
    print(f"faults: {len(runs)} kill -9; records lost {lost}, sandboxes killed by the app {killed}, "
          f"left running after quit {left} (targets 0)")
    ok = ratio < TARGET_RATIO and in_app < TARGET_REATTACH_S and lost == killed == left == 0
    print("OK" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
