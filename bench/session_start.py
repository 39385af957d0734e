"""Session start: the app's path against the same steps done directly with the SDK.

    python bench/session_start.py [--runs 15] [--concurrent 10]

Both paths run against the local E2B-compatible server (tests/e2b_server), in the same run:

- direct: the same steps by hand: ``AsyncSandbox.create`` → ``files.make_dir`` of the project
  folder (an empty project) → ``commands.run("echo first-line", cwd=…)`` until the first output
  chunk arrives.
- app: ``SessionManager.start_session`` (E2B provider, no project, task ``echo first-line``)
  until the first output line is in the session's buffer.

It prints the median and p90 of each, the ratio app/direct (target: below 1.10), and the time
to create 10 sessions concurrently through the app. Exit status 1 when the target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QCoreApplication  # noqa: E402

import qasync  # noqa: E402
from e2b import AsyncSandbox  # noqa: E402

from sesame_desktop.core.config import Provider, from_environment, resolve  # noqa: E402
from sesame_desktop.core.secret import Secret  # noqa: E402
from sesame_desktop.core.sessions import SessionRequest, SessionState  # noqa: E402
from sesame_desktop.core.settings import AppSettings  # noqa: E402
from sesame_desktop.sandbox.base import PROJECT_DIR  # noqa: E402
from sesame_desktop.sandbox.e2b_provider import E2BProvider  # noqa: E402
from sesame_desktop.services.sessions import SessionManager  # noqa: E402
from tests.e2b_server.pytest_plugin import E2BServer  # noqa: E402

TARGET_RATIO = 1.10
MARK = "first-line"


async def direct_once(api_key: str) -> float:
    started = time.perf_counter()
    first = asyncio.get_running_loop().create_future()
    sandbox = await AsyncSandbox.create(api_key=api_key, timeout=300)
    await sandbox.files.make_dir(PROJECT_DIR)
    handle = await sandbox.commands.run(
        f"echo {MARK}", background=True, cwd=PROJECT_DIR,
        on_stdout=lambda text: first.done() or first.set_result(time.perf_counter()), retain_output=False)
    elapsed = await first - started
    await handle.wait()
    await sandbox.kill()
    return elapsed


def make_manager(api_key: str) -> SessionManager:
    provider = E2BProvider(Secret(api_key))

    async def providers(kind: Provider) -> E2BProvider:
        return provider

    config = resolve(from_environment({}), None, AppSettings(timeout_ms=300_000).as_partial())
    return SessionManager(providers, lambda: config)


async def app_once(manager: SessionManager) -> float:
    started = time.perf_counter()
    first = asyncio.get_running_loop().create_future()
    snapshot = manager.start_session(SessionRequest("bench", Provider.E2B, None, task=f"echo {MARK}"))
    buffer = manager.buffer(snapshot.id)

    def on_change(_event: object) -> None:
        if not first.done() and MARK in buffer.plain_text().replace(f"▶ echo {MARK}", ""):
            first.set_result(time.perf_counter())

    buffer.add_listener(on_change)
    elapsed = await asyncio.wait_for(first, 60) - started
    while manager.snapshot(snapshot.id).state is not SessionState.IDLE:
        await asyncio.sleep(0.01)
    await manager.end_session(snapshot.id)
    return elapsed


async def concurrent(manager: SessionManager, count: int) -> float:
    started = time.perf_counter()
    ids = [manager.start_session(SessionRequest(f"c{i}", Provider.E2B, None, task="true")).id for i in range(count)]
    while any(manager.snapshot(i).state not in (SessionState.IDLE, SessionState.FAILED) for i in ids):
        await asyncio.sleep(0.01)
    elapsed = time.perf_counter() - started
    failed = [i for i in ids if manager.snapshot(i).state is SessionState.FAILED]
    if failed:
        raise SystemExit(f"{len(failed)} of {count} concurrent sessions failed")
    await asyncio.gather(*(manager.end_session(i) for i in ids))
    return elapsed


def describe(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]


async def main(runs: int, count: int, api_key: str) -> int:
    manager = make_manager(api_key)
    await direct_once(api_key)  # warm up both paths (imports, connections)
    await app_once(manager)
    direct: list[float] = []
    app: list[float] = []
    for _ in range(runs):  # interleaved, so machine noise hits both alike
        direct.append(await direct_once(api_key))
        app.append(await app_once(manager))
    many = await concurrent(manager, count)
    await manager.close()

    d_med, d_p90 = describe(direct)
    a_med, a_p90 = describe(app)
    ratio = a_med / d_med
    print(f"{'figure':<44}{'value':>12}{'target':>12}{'ratio':>8}")
    print(f"{'direct SDK: create to first output (median)':<44}{d_med * 1000:>10.1f}ms{'baseline':>12}{1:>8.2f}")
    print(f"{'direct SDK: p90':<44}{d_p90 * 1000:>10.1f}ms")
    print(f"{'app: Start to first output line (median)':<44}{a_med * 1000:>10.1f}ms{'< 1.10x':>12}{ratio:>8.2f}")
    print(f"{'app: p90':<44}{a_p90 * 1000:>10.1f}ms")
    print(f"{f'app: {count} sessions created concurrently':<44}{many * 1000:>10.1f}ms"
          f"{'':>12}{many / d_med:>8.2f}")
    ok = ratio < TARGET_RATIO
    print(f"session start overhead: {'PASS' if ok else 'FAIL'} ({(ratio - 1) * 100:+.1f}% against the SDK alone)")
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--concurrent", type=int, default=10)
    args = parser.parse_args()
    server = E2BServer.start()
    os.environ.update(server.env)
    app = QCoreApplication([])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        with loop:
            code = loop.run_until_complete(main(args.runs, args.concurrent, server.api_key))
    finally:
        server.stop()
    sys.exit(code)
