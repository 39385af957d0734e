"""Memory after 20 sessions × 5 MB of output are ended and removed, against a fresh start.

    python bench/session_memory.py [--sessions 20] [--megabytes 5]

The real app runs as a process (local provider, a scripted run):

- fresh: the app started on an empty data folder, doing nothing; its resident memory (RSS)
  once started;
- worked: the app starts 20 local sessions, each printing 5 MB of text into its console,
  waits until all are idle (RSS then: "open"), ends them all, removes them all, and reports
  its RSS.

It prints both, and the ratio worked/fresh (target: below 1.30: ended and removed sessions
give their buffers back; before this was built, 10 sessions × 5 MB twice took the app from
149 to 366 MB, a ratio of 2.5). Exit status 1 when the target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET_RATIO = 1.30


def run(base: Path, script: dict) -> dict:
    path = base.parent / "script.json"
    path.write_text(json.dumps(script))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("E2B_", "SANDBOX_"))}
    env.update({"QT_QPA_PLATFORM": "offscreen", "SANDBOX_PROVIDER": "local"})
    subprocess.run([sys.executable, "-m", "sesame_desktop", "--base-dir", str(base), "--script", str(path)],
                   env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO, timeout=600, check=True)
    return json.loads(Path(script["report"]).read_text())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--megabytes", type=float, default=5.0)
    args = parser.parse_args()
    raw = int(args.megabytes * 1024 * 1024 * 3 / 4)  # base64 makes 4 bytes of 3
    task = f"head -c {raw} /dev/urandom | base64 -w 100"
    with tempfile.TemporaryDirectory(prefix="sesame-bench-memory-") as tmp:
        work = Path(tmp)
        fresh = run(work / "fresh", {"report": str(work / "fresh.json"), "quit": True})
        worked = run(work / "worked", {
            "start": [{"name": f"s{i}", "provider": "local", "task": task} for i in range(args.sessions)],
            "wait_idle": True, "end_all": True, "remove_all": True, "report": str(work / "worked.json"), "quit": True})
    fresh_mb, open_mb, after_mb = fresh["rss_kb"] / 1024, worked["rss_open_kb"] / 1024, worked["rss_kb"] / 1024
    ratio = after_mb / fresh_mb
    print(f"fresh start: {fresh_mb:.0f} MB")
    print(f"{args.sessions} sessions x {args.megabytes:g} MB open: {open_mb:.0f} MB")
    print(f"after ending and removing them: {after_mb:.0f} MB; ratio to fresh {ratio:.2f} (target < {TARGET_RATIO})")
    ok = ratio < TARGET_RATIO and not worked["sessions"]
    print("OK" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
