"""Scripted runs (``sesame-desktop --script FILE``): the real app, driven by a small JSON file.

Used by end-to-end tests and benchmarks that start the app as a process (for example to
``kill -9`` it with sessions running and start it again). The script is plain data, never code:

```json
{"start": [{"name": "a", "provider": "e2b", "task": "…", "background": ["…"]}],
 "wait_ports": {"a": [8000]},
 "settle_s": 2, "end_all": false, "remove_all": false, "report": "/tmp/report.json",
 "quit": true}
```

The app starts (and restores its sessions) as usual; then it starts the sessions in
``start``, waits until every session is running or idle (restored ones reattached; with
``wait_idle``, until every task is done) and the
ports in ``wait_ports`` are listed, waits ``settle_s`` more, ends every session
(``end_all``) and forgets them (``remove_all``) when asked, and writes ``report``: every
session's state, sandbox id, ports and the tail of its console, ``ready_s`` (the seconds from
the start of the run to the settled moment) and the process's resident memory then
(``rss_open_kb``) and at the end (``rss_kb``). With ``quit`` it then quits (ending every session, as End all).
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sesame_desktop.core.config import Provider
from sesame_desktop.core.sessions import SessionRequest, SessionState

if TYPE_CHECKING:
    from sesame_desktop.app import Application

log = logging.getLogger(__name__)

SETTLED = (SessionState.IDLE, SessionState.RUNNING_TASK)
WAIT_LIMIT_S = 120.0


async def run_script(app: Application, path: Path, started: float) -> bool:
    """Run the script at ``path``; True when it asks the app to quit afterwards."""
    script: dict[str, Any] = json.loads(path.read_text())
    manager = app.sessions
    names: dict[str, str] = {}
    for item in script.get("start", []):
        request = SessionRequest(name=item["name"], provider=Provider(item.get("provider", "e2b")),
                                 task=item.get("task", ""))
        names[item["name"]] = manager.start_session(request).id
    for item in script.get("start", []):
        if item.get("background"):
            session_id = names[item["name"]]
            await _until(lambda i=session_id: manager.snapshot(i).state in SETTLED)
            for command in item["background"]:
                manager.run_command(session_id, command, background=True)
    await _until(lambda: all(s.state in SETTLED for s in manager.snapshots() if s.state.open))
    if script.get("wait_idle"):  # every task done
        await _until(lambda: all(s.state is SessionState.IDLE and not s.running for s in manager.snapshots()))
    by_name = {s.name: s.id for s in manager.snapshots()}
    for name, ports in script.get("wait_ports", {}).items():
        session_id = by_name[name]
        await _until(lambda i=session_id, p=ports: set(p) <= {x.port for x in app.ports.ports(i)})
    ready_s = time.monotonic() - started
    await asyncio.sleep(float(script.get("settle_s", 0)))  # let new output arrive
    rss_open_kb = rss_kb()
    if script.get("end_all"):
        await asyncio.gather(*(manager.end_session(s.id) for s in manager.snapshots() if s.state.open))
    if script.get("remove_all"):
        for snapshot in manager.snapshots():
            manager.remove_session(snapshot.id)
    if script.get("end_all") or script.get("remove_all"):
        await asyncio.sleep(0.5)  # let the console and the store let go
        gc.collect()
    for snapshot in manager.snapshots():
        manager.buffer(snapshot.id)
        await manager.output(snapshot.id).loaded_from_disk()
    report = {
        "pid": os.getpid(),
        "ready_s": ready_s,
        "rss_open_kb": rss_open_kb,
        "rss_kb": rss_kb(),
        "sessions": [
            {"id": s.id, "name": s.name, "state": s.state.name, "sandbox_id": s.sandbox_id,
             "running": s.running, "background": s.background,
             "ports": [p.port for p in app.ports.ports(s.id)],
             "text": manager.buffer(s.id).plain_text()[-4000:]}
            for s in manager.snapshots()
        ],
    }
    target = Path(script["report"])
    tmp = target.with_suffix(".tmp")
    await asyncio.get_running_loop().run_in_executor(None, lambda: (tmp.write_text(json.dumps(report)),
                                                                     tmp.replace(target)))
    log.info("script: report written (%.2f s after start)", ready_s)
    return bool(script.get("quit"))


def rss_kb() -> int:
    """The process's resident memory (Linux; 0 elsewhere)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


async def _until(condition: Any, limit: float = WAIT_LIMIT_S) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the scripted run waited too long")
        await asyncio.sleep(0.05)
