"""The Terminal tab's keystroke-to-echo latency on the local E2B server (run by bench/console.py).

Types single characters, 60 ms apart, into a :class:`~sesame_desktop.services.terminals.Terminal` (a shell on
a PTY of an E2B sandbox, through the real SDK) and times each until its echo is on the screen;
the same through the SDK's PTY calls alone is the baseline, interleaved. Prints JSON (ms)::

    python bench/terminal_latency.py 200
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtWidgets import QApplication  # noqa: E402


def main(keys: int) -> None:
    """Runs in a fresh process: keystroke-to-echo latency of a Terminal on the local E2B
    server, against the SDK's own PTY calls (the baseline), interleaved; prints JSON (ms)."""
    import asyncio

    import qasync
    from e2b import PtySize

    from sesame_desktop.core.secret import Secret
    from sesame_desktop.sandbox.base import SandboxSpec
    from sesame_desktop.sandbox.e2b_provider import E2BProvider
    from sesame_desktop.services.terminals import Terminal
    from tests.e2b_server.pytest_plugin import E2BServer

    server = E2BServer.start()
    os.environ.update(server.env)
    app = QApplication.instance() or QApplication([])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)

    class OneSandbox:  # what Terminal.run asks the session manager for
        def __init__(self, sandbox: object) -> None:
            self._sandbox = sandbox

        def sandbox(self, _session_id: str) -> object:
            return self._sandbox

    async def measure() -> dict[str, list[float]]:
        box = await E2BProvider(Secret(server.api_key)).create(SandboxSpec("bench", "bench"))
        await box.get_project(None, lambda _m: None)
        terminal = Terminal("t1", "bench", 80, 24)
        task = asyncio.ensure_future(terminal.run(OneSandbox(box)))  # type: ignore[arg-type]
        seen = asyncio.Event()
        target = {"x": -1}

        def on_change(_event: object) -> None:
            if terminal.buffer.vt.x == target["x"]:
                seen.set()

        terminal.buffer.add_listener(on_change)
        direct_data = bytearray()
        direct_seen = asyncio.Event()
        direct = await box.sdk.pty.create(
            PtySize(rows=24, cols=80), on_data=lambda d: (direct_data.extend(d), direct_seen.set()),
            timeout=0,
        )
        while terminal.buffer.vt.x < 2:  # the prompt
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        app_ms: list[float] = []
        sdk_ms: list[float] = []

        async def app_key() -> None:  # a key through the app's Terminal, until its screen shows it
            target["x"] = terminal.buffer.vt.x + 1
            seen.clear()
            start = time.perf_counter()
            terminal.send(b"a")
            await asyncio.wait_for(seen.wait(), 5)
            app_ms.append((time.perf_counter() - start) * 1000)

        async def sdk_key() -> None:  # the same through the SDK alone, until its echo arrives
            direct_seen.clear()
            start = time.perf_counter()
            await box.sdk.pty.send_stdin(direct.pid, b"a")
            await asyncio.wait_for(direct_seen.wait(), 5)
            sdk_ms.append((time.perf_counter() - start) * 1000)

        for i in range(keys):  # 60 ms between keys: a fast typist's pace
            if i % 20 == 0:
                terminal.send(b"\x15")  # Ctrl+U: an empty line again
                await box.sdk.pty.send_stdin(direct.pid, b"\x15")
                await asyncio.sleep(0.2)
                direct_seen.clear()
            # alternate which goes first, so that neither always follows the other's echo
            for measure_one in ((sdk_key, app_key) if i % 2 else (app_key, sdk_key)):
                await asyncio.sleep(0.06)
                await measure_one()
        terminal.close()
        await task
        await box.sdk.pty.kill(direct.pid)
        await box.kill()
        return {"app": app_ms, "sdk": sdk_ms}

    try:
        with loop:
            result = loop.run_until_complete(measure())
    finally:
        server.stop()
    print(json.dumps(result))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
