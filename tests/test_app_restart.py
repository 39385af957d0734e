"""``kill -9`` of the real app with E2B sessions running, then a relaunch: nothing is lost.

The app runs as a process against the local E2B server (real SDK), driven by a scripted run
(``--script``): three sessions (one printing a counter in the foreground, one idle, one with a
dev server in the background). It is killed with SIGKILL, then started again: the three
sessions come back with their output history, the counter goes on, the dev server's port is
listed again; quitting then ends every sandbox (confirmed).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

TICKER = 'i=0; while true; do i=$((i+1)); echo "tick-$i"; sleep 0.2; done'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_env(e2b_server) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("E2B_", "SANDBOX_"))}
    env.update({"QT_QPA_PLATFORM": "offscreen", "SANDBOX_PROVIDER": "e2b", **e2b_server.env})
    return env


def launch(base: Path, script: dict, env: dict[str, str], name: str) -> tuple[subprocess.Popen, Path]:
    path = base.parent / f"{name}.json"
    path.write_text(json.dumps(script))
    proc = subprocess.Popen([sys.executable, "-m", "sesame_desktop", "--base-dir", str(base), "--script", str(path)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return proc, Path(script["report"])


def wait_report(proc: subprocess.Popen, report: Path, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while not report.exists():
        assert proc.poll() is None, proc.stderr.read().decode(errors="replace")
        assert time.monotonic() < deadline, "no report from the app"
        time.sleep(0.1)
    return json.loads(report.read_text())


def ticks(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"tick-(\d+)", text)]


def test_kill_9_with_three_e2b_sessions_then_relaunch(e2b_server, tmp_path):
    base = tmp_path / "base"
    port = free_port()
    env = app_env(e2b_server)
    first, report1 = launch(base, {
        "start": [{"name": "ticker", "task": TICKER}, {"name": "quiet"},
                  {"name": "server", "background": [f"python3 -m http.server {port} --bind 127.0.0.1"]}],
        "wait_ports": {"server": [port]}, "settle_s": 1, "report": str(tmp_path / "report1.json"),
    }, env, "script1")
    try:
        before = wait_report(first, report1)
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        first.stderr.close()
    sandboxes = {s["name"]: s["sandbox_id"] for s in before["sessions"]}
    assert len(sandboxes) == 3 and all(e2b_server.is_alive(sid) for sid in sandboxes.values())
    last_tick = max(ticks(next(s["text"] for s in before["sessions"] if s["name"] == "ticker")))

    second, report2 = launch(base, {"wait_ports": {"server": [port]}, "settle_s": 1.5, "quit": True,
                                    "report": str(tmp_path / "report2.json")}, env, "script2")
    try:
        after = wait_report(second, report2)
        assert second.wait(60) == 0
    finally:
        if second.poll() is None:
            second.kill()
            second.wait()
        second.stderr.close()
    sessions = {s["name"]: s for s in after["sessions"]}
    assert set(sessions) == {"ticker", "quiet", "server"}
    assert {n: s["sandbox_id"] for n, s in sessions.items()} == sandboxes
    assert sessions["ticker"]["state"] == "RUNNING_TASK" and sessions["ticker"]["running"]
    assert {sessions["quiet"]["state"], sessions["server"]["state"]} == {"IDLE"}
    seen = ticks(sessions["ticker"]["text"])
    assert min(seen) <= last_tick < max(seen)  # the history, and the counter going on
    assert "reconnecting to the sandbox" in sessions["ticker"]["text"]
    assert sessions["server"]["ports"] == [port] and sessions["server"]["background"] == 1
    # quitting (End all) ended every sandbox, confirmed: none left running, unlisted or not
    assert e2b_server.sandbox_ids() == []
    log_text = (base / "logs" / "sesame-desktop.log").read_text()
    assert "restored 3 sessions" in log_text and "not confirmed" not in log_text
