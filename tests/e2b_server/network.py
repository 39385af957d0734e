"""A sandbox's own network namespace: outbound through slirp4netns, previews through an agent.

With ``--network private`` (the default where ``slirp4netns`` is installed) bubblewrap gives
each sandbox a network namespace of its own (``--unshare-net``): its loopback is its own, so
two sandboxes can both listen on port 3000, ``/proc/net/tcp`` inside shows only the
sandbox's sockets, and nothing inside can reach the host's loopback services as
``127.0.0.1``.

Outbound: ``slirp4netns`` (user-mode TCP/IP, Debian package ``slirp4netns``) gives the
namespace a ``tap0`` device (10.0.2.100/24, gateway 10.0.2.2, DNS 10.0.2.3) and makes the
sandbox's connections from the host as ordinary sockets of the slirp4netns process. The
gateway 10.0.2.2 is the host's loopback (so a test can reach a server it runs on 127.0.0.1
without any traffic leaving the machine). slirp4netns stops when the sandbox is killed, or
when the server dies (its exit fd closes).

Previews: the edge proxy runs in the server's namespace, so it cannot connect to a port of
the sandbox's loopback itself. A tiny agent (:data:`AGENT`) runs in the sandbox's network
namespace only (not in its PID or mount namespace: ``ps`` inside does not show it, and it
keeps running while the sandbox is paused, when the proxy does not use it). It listens on a
unix socket in the sandbox's host folder (unix sockets bound to a path are reachable across
network namespaces), connects to ``127.0.0.1:<port>`` (else ``[::1]:<port>``) in the
sandbox's namespace for each request and hands the connected socket back with
``SCM_RIGHTS``. The proxy then relays bytes on that socket as before. The agent starts on
the first preview request of a sandbox.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

log = logging.getLogger("e2b_server.network")

GATEWAY = "10.0.2.2"  # slirp4netns: the host's loopback, seen from the sandbox
DNS = "10.0.2.3"

AGENT = r"""
import os, socket, sys, threading
path = sys.argv[1]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(64)
def watch_parent():  # the server closes our stdin (or dies): stop
    while os.read(0, 64):
        pass
    os._exit(0)
threading.Thread(target=watch_parent, daemon=True).start()
os.write(1, b"ready\n")
while True:
    c, _ = srv.accept()
    try:
        port = int(c.recv(16).strip() or b"0")
        up = None
        for host in ("127.0.0.1", "::1"):
            try:
                up = socket.create_connection((host, port), timeout=5)
                break
            except OSError:
                continue
        if up is None:
            c.sendall(b"1")
        else:
            socket.send_fds(c, [b"0"], [up.fileno()])
            up.close()
    except Exception:
        pass
    finally:
        c.close()
"""


def slirp4netns_path() -> str | None:
    return shutil.which("slirp4netns")


class SandboxNetwork:
    """The network side of one sandbox in private-network mode."""

    def __init__(self, folder: Path, netns_pid: int, userns_fd: int | None, nsenter: str) -> None:
        self.folder = folder
        self.netns_pid = netns_pid  # a process of the sandbox whose ns files can be opened
        self.userns_fd = userns_fd  # unprivileged mode: the user namespace owning the netns
        self.nsenter = nsenter
        self.slirp: subprocess.Popen | None = None
        self._slirp_exit_w: int | None = None
        self.agent: subprocess.Popen | None = None
        self.agent_path = folder / "net.sock"
        self._lock = threading.Lock()
        self.closed = False

    # -- outbound ----------------------------------------------------------------------
    def start_outbound(self, slirp4netns: str) -> None:
        """Start slirp4netns for the namespace and wait until ``tap0`` is configured."""
        ready_r, ready_w = os.pipe()
        exit_r, exit_w = os.pipe()
        argv = [
            slirp4netns, "--configure", "--mtu=65520", f"--ready-fd={ready_w}", f"--exit-fd={exit_r}",
        ]  # fmt: skip
        fds = [ready_w, exit_r]
        if self.userns_fd is not None:
            argv += [f"--userns-path=/proc/self/fd/{self.userns_fd}", "--netns-type=path"]
            argv += [f"/proc/{self.netns_pid}/ns/net", "tap0"]
            fds.append(self.userns_fd)
        else:
            argv += [str(self.netns_pid), "tap0"]
        try:
            self.slirp = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                pass_fds=fds,
                start_new_session=True,
            )
        finally:
            os.close(ready_w)
            os.close(exit_r)
        self._slirp_exit_w = exit_w
        with os.fdopen(ready_r, "rb") as f:
            ok = f.read(1)
        if ok != b"1":
            err = b""
            if self.slirp.stderr is not None:
                self.slirp.kill()
                err = self.slirp.stderr.read()
            self.close()
            raise RuntimeError(f"slirp4netns failed: {err.decode(errors='replace').strip()}")
        if self.slirp.stderr is not None:
            self.slirp.stderr.close()

    # -- previews ----------------------------------------------------------------------
    def _start_agent(self) -> None:
        argv = [self.nsenter]
        fds: tuple[int, ...] = ()
        if self.userns_fd is not None:
            argv += [f"--user=/proc/self/fd/{self.userns_fd}", "--preserve-credentials"]
            fds = (self.userns_fd,)
        argv += ["-t", str(self.netns_pid), "-n", "--", sys.executable, "-I", "-c", AGENT, str(self.agent_path)]
        with contextlib.suppress(FileNotFoundError):
            self.agent_path.unlink()
        self.agent = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            pass_fds=fds,
            start_new_session=True,
        )
        assert self.agent.stdout is not None
        if self.agent.stdout.readline() != b"ready\n":
            self.agent.kill()
            self.agent.wait()
            self.agent = None
            raise OSError("the sandbox's network agent did not start")

    def open_port(self, port: int) -> socket.socket | None:
        """A TCP socket connected to ``port`` on the sandbox's loopback, or None when nothing
        listens there. Blocking: call it from a worker thread."""
        with self._lock:
            if self.closed:
                return None
            if self.agent is None or self.agent.poll() is not None:
                self._start_agent()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
            c.settimeout(10)
            c.connect(str(self.agent_path))
            c.sendall(f"{port}\n".encode())
            msg, fds, _flags, _addr = socket.recv_fds(c, 1, 1)
        if msg != b"0" or not fds:
            for fd in fds:
                os.close(fd)
            return None
        return socket.socket(fileno=fds[0])

    def close(self) -> None:
        self.closed = True
        with self._lock:
            for proc in (self.agent, self.slirp):
                if proc is not None and proc.poll() is None:
                    proc.kill()
                    proc.wait()
            if self.agent is not None:
                for pipe in (self.agent.stdin, self.agent.stdout):
                    if pipe is not None:
                        pipe.close()
            self.agent = None
            if self._slirp_exit_w is not None:
                os.close(self._slirp_exit_w)
                self._slirp_exit_w = None
