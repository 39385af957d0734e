"""The Ports tab with real dev servers: local provider, E2B through the SDK, and Vite from npm.

Each test starts a real server in a session, waits for its row, opens it with the buttons,
double-click, Enter and the notice (the URL handler is intercepted: ``url_catcher``), and
loads the URL in headless Chromium to check that the page the server serves is there.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from sesame_desktop.core.ports import PortSource
from sesame_desktop.core.sessions import SessionState
from tests.ui.test_e2b_sessions_ui import start_e2b_session
from tests.ui.test_sessions_ui import start_session, state_of, type_command

PAGE = "<html><body><h1 id=m>hello from the ports tab</h1></body></html>"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def chromium_dom(url: str, home: Path) -> str:
    """The DOM of ``url`` after its scripts ran, from a real headless Chromium."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.fail("chromium is not installed (apt-get install chromium)")
    home.mkdir(parents=True, exist_ok=True)
    proc = await asyncio.create_subprocess_exec(
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", "--password-store=basic", f"--user-data-dir={home}/profile",
        "--virtual-time-budget=2000", "--dump-dom", url,
        env={**os.environ, "HOME": str(home)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    out, _ = await proc.communicate()
    return out.decode(errors="replace")


def wait_for_row(window, qtbot, timeout: int = 10_000) -> str:
    view = window.ports_view
    qtbot.waitUntil(lambda: view.model.rowCount() == 1, timeout=timeout)
    return view.model.port_at(0).url


def open_every_way(window, qtbot, url_catcher) -> list[str]:
    """Open the only row with the notice, the button, a double-click and Enter."""
    view = window.ports_view
    window.side_tabs.setCurrentWidget(view)
    notice = window.port_notice
    qtbot.waitUntil(notice.isVisible)
    qtbot.mouseClick(notice.open_button, Qt.MouseButton.LeftButton)
    assert not notice.isVisible()
    qtbot.mouseClick(view.open_button, Qt.MouseButton.LeftButton)
    center = view.table.visualRect(view.model.index(0, 1)).center()
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=center)
    qtbot.mouseDClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=center)
    view.table.setFocus()
    qtbot.keyClick(view.table, Qt.Key.Key_Return)
    return list(url_catcher.urls)


def test_local_dev_server_shows_opens_and_leaves(make_window, qtbot, url_catcher, run_async, tmp_path):
    window = make_window()
    session_id = start_session(window, qtbot, empty=True)
    qtbot.waitUntil(lambda: state_of(window, session_id) is SessionState.IDLE, timeout=30_000)
    view = window.ports_view
    assert view.currentWidget() is view.hint
    port = free_port()
    type_command(window, qtbot, f"echo '{PAGE}' > index.html")
    qtbot.waitUntil(lambda: "■ exit code 0" in window._sessions.buffer(session_id).plain_text())
    window.session_panel.background_button.setChecked(True)
    type_command(window, qtbot, f"python3 -m http.server {port} --bind 127.0.0.1")
    started = time.monotonic()
    url = wait_for_row(window, qtbot)
    assert time.monotonic() - started < 2.0  # python's start-up, then at most one scan interval
    assert url == f"http://127.0.0.1:{port}"
    assert view.currentWidget() is not view.hint
    assert [view.model.data(view.model.index(0, c)) for c in (0, 1)] == [str(port), url]
    assert window.port_notice.text() == f"Dev server on {port} \u2014 Open"

    assert open_every_way(window, qtbot, url_catcher) == [url] * 4
    qtbot.mouseClick(view.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == url
    assert "hello from the ports tab" in run_async(chromium_dom(url, tmp_path / "chromium"), timeout=60)

    window.session_panel.end_button.click()
    next(b for b in window.session_panel.end_confirmation.buttons() if b.text() == "End Session").click()
    qtbot.waitUntil(lambda: view.model.rowCount() == 0, timeout=20_000)
    assert view.currentWidget() is view.hint
    assert url_catcher.urls == [url] * 4


def test_the_list_follows_the_selected_session(make_window, qtbot, url_catcher):
    window = make_window()
    serving = start_session(window, qtbot, empty=True)
    qtbot.waitUntil(lambda: state_of(window, serving) is SessionState.IDLE, timeout=30_000)
    port = free_port()
    window.session_panel.background_button.setChecked(True)
    type_command(window, qtbot, f"python3 -m http.server {port} --bind 127.0.0.1")
    url = wait_for_row(window, qtbot)
    notice = window.port_notice
    assert notice.isVisible()

    quiet = start_session(window, qtbot, empty=True)  # selected on start
    view = window.ports_view
    assert view.session_id == quiet and view.model.rowCount() == 0 and view.currentWidget() is view.hint
    assert notice.isVisible()  # a notice is about a session, whichever is selected
    window.select_session(serving)
    assert view.model.rowCount() == 1 and view.selected_port().url == url

    window.select_session(quiet)
    window.session_panel.end_button.click()  # the selected one: the other keeps its server
    next(b for b in window.session_panel.end_confirmation.buttons() if b.text() == "End Session").click()
    qtbot.waitUntil(lambda: state_of(window, quiet) is SessionState.ENDED, timeout=20_000)
    assert notice.isVisible()
    window.select_session(serving)
    window.session_panel.end_button.click()
    next(b for b in window.session_panel.end_confirmation.buttons() if b.text() == "End Session").click()
    qtbot.waitUntil(lambda: not notice.isVisible(), timeout=20_000)  # its port closed
    assert view.model.rowCount() == 0 and url_catcher.urls == []


def test_printed_text_never_reaches_the_browser(make_window, qtbot, url_catcher):
    """A URL in the output only names a port to check; the row's URL is the provider's."""
    window = make_window()
    session_id = start_session(window, qtbot, empty=True)
    qtbot.waitUntil(lambda: state_of(window, session_id) is SessionState.IDLE, timeout=30_000)
    port = free_port()
    window.session_panel.background_button.setChecked(True)
    type_command(window, qtbot, f"echo 'ready on http://localhost:{port}/evil?x=javascript:alert(1)'; "
                                f"python3 -m http.server {port} --bind 127.0.0.1")
    url = wait_for_row(window, qtbot)
    assert url == f"http://127.0.0.1:{port}"
    assert window.ports_view.model.port_at(0).source is PortSource.OUTPUT
    qtbot.mouseClick(window.ports_view.open_button, Qt.MouseButton.LeftButton)
    assert url_catcher.urls == [url]


def test_e2b_dev_server_opens_through_the_preview_host(e2b_env, make_window, qtbot, url_catcher, run_async,
                                                       tmp_path):
    window = make_window(environ={**e2b_env.env, "SANDBOX_PROVIDER": "e2b"})
    session_id = start_e2b_session(window, qtbot, empty=True)
    qtbot.waitUntil(lambda: state_of(window, session_id) is SessionState.IDLE, timeout=60_000)
    sandbox_id = window._sessions.snapshot(session_id).sandbox_id
    port = free_port()
    type_command(window, qtbot, f"echo '{PAGE}' > index.html")
    qtbot.waitUntil(lambda: "■ exit code 0" in window._sessions.buffer(session_id).plain_text())
    window.session_panel.background_button.setChecked(True)
    type_command(window, qtbot, f"python3 -m http.server {port} --bind 127.0.0.1")
    url = wait_for_row(window, qtbot)
    assert url == f"http://{port}-{sandbox_id}.{e2b_env.domain}"  # the server's own ports never show
    assert open_every_way(window, qtbot, url_catcher) == [url] * 4
    assert "hello from the ports tab" in run_async(chromium_dom(url, tmp_path / "chromium"), timeout=60)
    # a local URL printed in the console opens on the preview URL (on E2B localhost is the user's computer)
    url_catcher.urls.clear()
    window.session_panel.console.open_link(f"http://0.0.0.0:{port}/index.html?a=1")
    assert url_catcher.urls == [f"{url}/index.html?a=1"]


@pytest.mark.slow
def test_vite_from_npm_shows_and_serves_its_page(make_window, qtbot, url_catcher, run_async, tmp_path):
    if shutil.which("npm") is None or shutil.which("node") is None:
        pytest.fail("node and npm are needed for the Vite test (Debian: apt-get install nodejs npm)")
    project = tmp_path / "vite-app"
    project.mkdir()
    (project / "package.json").write_text('{"name": "vite-app", "private": true, "type": "module"}\n')
    (project / "index.html").write_text(
        "<!doctype html><html><body><h1 id=m>static</h1>"
        "<script type=module>document.getElementById('m').textContent = 'rendered by vite'</script>"
        "</body></html>\n")
    port = free_port()
    # npm's cache goes to the session's home, which lives under this test's tmp_path.
    task = ("npm install --no-audit --no-fund --loglevel=error vite@5 && "
            f"npx vite --port {port} --strictPort --host 127.0.0.1")
    window = make_window()
    session_id = start_session(window, qtbot, folder=str(project), task=task)
    url = wait_for_row(window, qtbot, timeout=120_000)
    assert url == f"http://127.0.0.1:{port}"
    assert state_of(window, session_id) is SessionState.RUNNING_TASK
    assert open_every_way(window, qtbot, url_catcher) == [url] * 4
    dom = run_async(chromium_dom(url, tmp_path / "chromium"), timeout=60)
    assert "rendered by vite" in dom and "/@vite/client" in dom
