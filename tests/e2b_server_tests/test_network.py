"""Each sandbox's own network namespace: same port in two sandboxes, previews reach their own
server, the host's loopback is not the sandbox's, outbound goes through slirp4netns."""

from __future__ import annotations

import http.client
import socket
import threading
from collections.abc import Iterator

import pytest
from e2b import AsyncSandbox, Sandbox

from .conftest import wait_until


@pytest.fixture
def private_net(e2b_server):
    if e2b_server.network != "private":
        pytest.skip(f"the server runs sandboxes on the host network: {e2b_server.info['network_reason']}")
    return e2b_server


@pytest.fixture
def host_http() -> Iterator[int]:
    """A tiny HTTP server on the host's 127.0.0.1 (outside every sandbox)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    stop = threading.Event()

    def serve() -> None:
        srv.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(5)
                try:
                    conn.recv(65536)
                    conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\nconnection: close\r\n\r\nfrom-host")
                except OSError:
                    pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield srv.getsockname()[1]
    finally:
        stop.set()
        thread.join(5)
        srv.close()


def _preview(e2b_server, host: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", e2b_server.proxy_port, timeout=10)
    try:
        conn.request("GET", "/", headers={"Host": host})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def test_two_sandboxes_listen_on_one_port_and_previews_reach_their_own(private_net) -> None:
    opts = private_net.sdk_opts
    boxes = [Sandbox.create(**opts) for _ in range(2)]
    for i, sbx in enumerate(boxes):
        sbx.files.write("site/index.html", f"sandbox-{i}")
        sbx.commands.run("cd site && exec python3 -m http.server 3000 --bind 127.0.0.1", background=True)
    for sbx in boxes:
        wait_until(lambda sbx=sbx: sbx.commands.run("grep -qi ':0BB8 ' /proc/net/tcp && echo y || true").stdout)
    answers = [_preview(private_net, sbx.get_host(3000)) for sbx in boxes]
    assert answers == [(200, b"sandbox-0"), (200, b"sandbox-1")]
    with pytest.raises(OSError):  # nothing of theirs listens on the host
        socket.create_connection(("127.0.0.1", 3000), timeout=1).close()
    status, body = _preview(private_net, boxes[0].get_host(3001))
    assert status == 502 and b"port is not open" in body


def test_host_loopback_is_not_the_sandboxes_and_outbound_works(private_net, host_http, run_async) -> None:
    async def go():
        sbx = await AsyncSandbox.create(**private_net.sdk_opts)
        inside = await sbx.commands.run(f"curl -s -m 3 http://127.0.0.1:{host_http}/ || echo unreachable")
        outbound = await sbx.commands.run(f"curl -s -m 5 http://{private_net.host_alias}:{host_http}/")
        table = await sbx.commands.run("cat /proc/net/tcp /proc/net/tcp6 2>/dev/null")
        interfaces = await sbx.commands.run("cat /proc/net/dev")
        return inside.stdout, outbound.stdout, table.stdout, interfaces.stdout

    inside, outbound, table, interfaces = run_async(go())
    assert inside.strip() == "unreachable"  # 127.0.0.1 is the sandbox's own loopback
    assert outbound == "from-host"  # out through slirp4netns (10.0.2.2 is the host's loopback)
    listening = [line.split()[1] for line in table.splitlines()[1:] if line.split()[3:4] == ["0A"]]
    assert not [a for a in listening if a.upper().endswith(f":{host_http:04X}")]  # not the host's sockets
    assert "tap0" in interfaces


def test_processes_of_the_server_are_not_on_the_sandboxes_network(private_net) -> None:
    sbx = Sandbox.create(**private_net.sdk_opts)
    api_port = int(private_net.api_url.rsplit(":", 1)[1])
    out = sbx.commands.run(f"curl -s -m 2 -o /dev/null -w '%{{http_code}}' http://127.0.0.1:{api_port}/ || true").stdout
    assert out in ("000", "")  # the control plane is not on the sandbox's loopback
