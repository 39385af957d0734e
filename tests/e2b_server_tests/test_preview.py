"""Previews: ``get_host(port)`` names a host a real browser opens to reach the sandbox's server."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
import tempfile

import pytest
from e2b import Sandbox

from .conftest import free_port, wait_until


def proxy_get(server, host: str, path: str = "/") -> tuple[int, bytes]:
    """GET through the preview proxy the way a browser does: connect to loopback, send Host."""
    conn = http.client.HTTPConnection("127.0.0.1", server.proxy_port, timeout=5)
    try:
        conn.request("GET", path, headers={"Host": host})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def chromium_dump_dom(url: str) -> str:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.fail("chromium is not installed (apt-get install chromium)")
    with tempfile.TemporaryDirectory(prefix="chromium-home-") as home:
        r = subprocess.run(
            [
                chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--password-store=basic", f"--user-data-dir={home}/profile",
                "--dump-dom", url,
            ],
            env={**os.environ, "HOME": home},
            capture_output=True,
            timeout=60,
            check=False,
        )  # fmt: skip
    return r.stdout.decode(errors="replace")


@pytest.mark.slow
def test_browser_opens_dev_server_through_get_host(e2b_server) -> None:
    sbx = Sandbox.create(**e2b_server.sdk_opts)
    port = free_port()
    sbx.files.write("site/index.html", "<html><body><h1 id='m'>hello from the sandbox</h1></body></html>")
    sbx.commands.run(f"python3 -m http.server {port} --bind 127.0.0.1 --directory site", background=True)
    host = sbx.get_host(port)
    assert host == f"{port}-{sbx.sandbox_id}.localhost:{e2b_server.proxy_port}"
    wait_until(lambda: proxy_get(e2b_server, host)[0] == 200, timeout=10)
    url = e2b_server.preview_url(host)
    assert url == f"http://{host}"
    dom = chromium_dump_dom(url)
    assert "hello from the sandbox" in dom


def test_proxy_answers_like_e2b_when_it_cannot_route(e2b_server) -> None:
    sbx = Sandbox.create(**e2b_server.sdk_opts)
    closed = free_port()
    status, body = proxy_get(e2b_server, sbx.get_host(closed))
    assert status == 502 and "port is not open" in json.loads(body)["message"]
    status, body = proxy_get(e2b_server, f"3000-inosuchsandbox.{e2b_server.domain}")
    assert status == 502 and json.loads(body)["message"] == "The sandbox inosuchsandbox was not found"
    port = free_port()
    sbx.commands.run(f"python3 -m http.server {port} --bind 127.0.0.1", background=True)
    host = sbx.get_host(port)
    wait_until(lambda: proxy_get(e2b_server, host)[0] == 200, timeout=10)
    e2b_server.kill_sandbox(sbx.sandbox_id)
    status, body = proxy_get(e2b_server, host)
    assert status == 502 and "was not found" in json.loads(body)["message"]


ECHO_SERVER = """
import socket, sys
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(sys.argv[1]))); srv.listen(1)
conn, _ = srv.accept()
while data := conn.recv(65536):
    conn.sendall(data)
"""


def test_proxy_relays_raw_bytes_both_ways_after_the_head(e2b_server) -> None:
    """What a WebSocket upgrade needs: after the request head, bytes flow both ways as they come."""
    import socket

    sbx = Sandbox.create(**e2b_server.sdk_opts)
    port = free_port()
    sbx.files.write("echo.py", ECHO_SERVER)
    sbx.commands.run(f"python3 echo.py {port}", background=True)
    head = f"GET /chat HTTP/1.1\r\nHost: {sbx.get_host(port)}\r\nUpgrade: websocket\r\n\r\n".encode()

    def connect() -> socket.socket | None:
        s = socket.create_connection(("127.0.0.1", e2b_server.proxy_port), timeout=5)
        s.sendall(head)
        first = s.recv(65536)
        if first.startswith(b"HTTP/1.1 502"):  # the echo server is not listening yet
            s.close()
            return None
        assert first == head[: len(first)]
        got = first
        while len(got) < len(head):
            got += s.recv(65536)
        assert got == head
        return s

    conn: list[socket.socket] = []

    def ready() -> bool:
        s = connect()
        if s is not None:
            conn.append(s)
        return s is not None

    wait_until(ready, timeout=10)
    with conn[0] as s:
        for message in (b"\x81\x05hello", b"\x81\x05world" * 1000):
            s.sendall(message)
            echoed = b""
            while len(echoed) < len(message):
                echoed += s.recv(65536)
            assert echoed == message
