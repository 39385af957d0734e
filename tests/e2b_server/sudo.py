"""Passwordless ``sudo`` inside a sandbox, without setuid.

E2B's default template lets ``user`` run ``sudo`` without a password. Here the sandbox's
root filesystem is the host's, bound read-only and ``nosuid`` by bubblewrap (and, without
root, inside a user namespace where the host's setuid ``sudo`` could not work anyway). So
each sandbox gets a sandbox-private ``sudo``: a small Python program (:data:`SHIM`), bound
over the host's ``/usr/bin/sudo`` when there is one (else it is ``/usr/local/sbin/sudo``),
that asks the server to run the command for it:

1. The shim connects to ``/run/e2b-sudo.sock`` (the sandbox's own ``/run``, a folder of the
   sandbox on the host) and sends the command, target user, working directory and (``-E``)
   environment, with its stdin/stdout/stderr passed as file descriptors (``SCM_RIGHTS``).
2. The server starts the command inside the sandbox's namespaces as that user (as it starts
   envd's commands for ``user="root"``), with those descriptors as its stdio, and answers with
   its exit status when it ends. Signals the shim gets (INT, TERM, HUP, QUIT) are forwarded
   to the command; if the shim dies, the command is killed.

Supported: ``sudo [-n] [-E] [-H] [-S] [-k] [-u root|user] [-i|-s] [--] command...``,
``sudo -v``, ``sudo -l``, ``sudo -V``. The command runs with a fresh environment (as
``env_reset``: PATH, HOME, USER, LOGNAME, SHELL of the target, TERM and LANG kept, SUDO_*
set), or the caller's with ``-E``. Not emulated: the command gets the terminal as stdio but
not as its controlling terminal (``sudo -i`` in a PTY has no job control); other users and
sudoers rules do not exist. Without isolation (``--isolation none``) there is no ``sudo``.

Whoever can run commands in the sandbox can already run them as root through envd
(``user="root"``), as on E2B; this adds no new power.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import struct
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .sandboxes import Isolation, Sandbox

log = logging.getLogger("e2b_server.sudo")

SOCKET_IN_SANDBOX = "/run/e2b-sudo.sock"
_USERS = {"root": "/root", "user": "/home/user"}

SHIM = r"""
import json, os, signal, socket, struct, sys
USAGE = "usage: sudo [-n] [-E] [-H] [-S] [-u user] [-i | -s] [--] command [args...]"
args = sys.argv[1:]
user, env_keep, login, shell = "root", False, False, False
while args and args[0].startswith("-") and args[0] != "-":
    a = args.pop(0)
    if a == "--":
        break
    if a in ("-V", "--version"):
        print("Sudo version 1.9 (local E2B sandbox sudo)")
        sys.exit(0)
    if a in ("-v", "-k", "-K", "--validate", "--reset-timestamp"):
        continue
    if a in ("-l", "--list"):
        print("User %s may run the following commands:\n    (ALL : ALL) NOPASSWD: ALL" % os.environ.get("USER", "user"))
        sys.exit(0)
    if a in ("-h", "--help"):
        print(USAGE)
        sys.exit(0)
    if a.startswith("--user="):
        user = a.split("=", 1)[1]
        continue
    if a in ("-u", "--user"):
        if not args:
            print("sudo: option requires an argument -- 'u'\n" + USAGE, file=sys.stderr)
            sys.exit(1)
        user = args.pop(0)
        continue
    flags = a[1:]
    for i, f in enumerate(flags):
        if f in "nHSPAbk":
            continue
        elif f == "E":
            env_keep = True
        elif f == "i":
            login = True
        elif f == "s":
            shell = True
        elif f == "u":
            rest = flags[i + 1:]
            if not rest and not args:
                print("sudo: option requires an argument -- 'u'\n" + USAGE, file=sys.stderr)
                sys.exit(1)
            user = rest or args.pop(0)
            break
        else:
            print("sudo: invalid option -- '%s'\n%s" % (f, USAGE), file=sys.stderr)
            sys.exit(1)
if user.startswith("#"):
    user = {"#0": "root", "#1000": "user"}.get(user, user)
if not args and not (login or shell):
    print(USAGE, file=sys.stderr)
    sys.exit(1)
req = {"argv": args, "user": user, "login": login, "shell": shell, "cwd": os.getcwd(),
       "env": dict(os.environ) if env_keep else {k: os.environ[k] for k in ("TERM", "LANG", "LC_ALL", "COLUMNS", "LINES") if k in os.environ},
       "caller": os.environ.get("USER", "user"), "uid": os.getuid(), "gid": os.getgid()}
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect("@SOCKET@")
except OSError as e:
    print("sudo: unable to reach the sandbox's sudo service: %s" % e, file=sys.stderr)
    sys.exit(1)
data = json.dumps(req).encode()
socket.send_fds(s, [struct.pack("!I", len(data)) + data], [0, 1, 2])
def forward(sig, _frame):
    try:
        s.sendall(b"S" + struct.pack("!I", sig))
    except OSError:
        pass
for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
    signal.signal(sig, forward)
buf = b""
while True:
    try:
        chunk = s.recv(64)
    except InterruptedError:
        continue
    if not chunk:
        break
    buf += chunk
    if b"\n" in buf:
        break
try:
    reply = json.loads(buf.split(b"\n", 1)[0])
except ValueError:
    print("sudo: the sandbox's sudo service ended without an answer", file=sys.stderr)
    sys.exit(1)
if reply.get("error"):
    print("sudo: " + reply["error"], file=sys.stderr)
sys.exit(reply.get("code", 1))
""".replace("@SOCKET@", SOCKET_IN_SANDBOX)


def install_shim(state_dir: Path) -> Path:
    """Write the shim (once per server) into ``<state>/sudo/sudo``; return its path."""
    folder = state_dir / "sudo"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "sudo"
    python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
    path.write_text(f"#!{python} -I\n" + SHIM)
    path.chmod(0o755)
    return path


def bwrap_args(root: Path, shim: Path) -> list[str]:
    """bubblewrap arguments: the sandbox's own ``/run`` (holding the socket) and the shim as
    ``sudo`` (over the host's, whose setuid bit would not work here)."""
    run = root / "run"
    run.mkdir(exist_ok=True)
    (run / "lock").mkdir(exist_ok=True)
    os.chmod(run, 0o755)
    if os.path.exists("/usr/bin/sudo"):
        target = ["--ro-bind", str(shim), "/usr/bin/sudo"]
    else:
        target = ["--ro-bind", str(shim.parent), "/usr/local/sbin"]
    return ["--bind", str(run), "/run", *target]


class SudoService:
    """The server side of one sandbox's ``sudo``: a unix socket and the commands it runs."""

    def __init__(self, sbx: Sandbox, isolation: Isolation) -> None:
        self.sbx = sbx
        self.isolation = isolation
        self.path = sbx.root / "run" / "e2b-sudo.sock"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self.sock.bind(str(self.path))
        os.chmod(self.path, 0o666)  # every user of the sandbox may ask (passwordless sudo)
        self.sock.listen(16)
        self.sock.setblocking(False)
        self.tasks: set[asyncio.Task[None]] = set()
        self.children: set[asyncio.subprocess.Process] = set()
        self._accept = asyncio.get_running_loop().create_task(self._serve())

    async def _serve(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            conn, _ = await loop.sock_accept(self.sock)
            task = loop.create_task(self._handle(conn))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def _handle(self, conn: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        fds: list[int] = []
        proc: asyncio.subprocess.Process | None = None
        try:
            conn.setblocking(True)
            conn.settimeout(5)
            msg, fds, _flags, _addr = await asyncio.to_thread(socket.recv_fds, conn, 1 << 20, 3)
            (size,) = struct.unpack("!I", msg[:4])
            body = msg[4:]
            while len(body) < size:
                more = await asyncio.to_thread(conn.recv, size - len(body))
                if not more:
                    raise ConnectionError("sudo request cut short")
                body += more
            req = json.loads(body)
            if len(fds) != 3:
                raise ValueError("sudo needs stdin, stdout and stderr")
            if req.get("user") not in _USERS:
                await self._reply(conn, {"code": 1, "error": f"unknown user {req.get('user')}"})
                return
            proc = await self._start(req, fds)
            conn.setblocking(False)
            waiter = loop.create_task(proc.wait())
            while not waiter.done():
                reader = loop.create_task(loop.sock_recv(conn, 5))
                done, _ = await asyncio.wait({waiter, reader}, return_when=asyncio.FIRST_COMPLETED)
                if reader in done:
                    data = reader.result() if not reader.cancelled() else b""
                    if not data:  # the shim is gone: so is its command
                        _kill(proc, signal.SIGKILL)
                        await waiter
                        return
                    if data[:1] == b"S" and len(data) == 5:
                        _kill(proc, struct.unpack("!I", data[1:])[0])
                else:
                    reader.cancel()
            rc = waiter.result()
            await self._reply(conn, {"code": rc if rc >= 0 else 128 - rc})
        except (OSError, ValueError, ConnectionError) as e:
            log.info("sudo request failed: %s", e)
            with contextlib.suppress(OSError):
                await self._reply(conn, {"code": 1, "error": str(e)})
        finally:
            if proc is not None:
                self.children.discard(proc)
            for fd in fds:
                os.close(fd)
            conn.close()

    async def _reply(self, conn: socket.socket, answer: dict[str, Any]) -> None:
        conn.setblocking(True)
        await asyncio.to_thread(conn.sendall, json.dumps(answer).encode() + b"\n")

    async def _start(self, req: dict[str, Any], fds: list[int]) -> asyncio.subprocess.Process:
        sbx, user = self.sbx, req["user"]
        argv = [str(a) for a in req.get("argv") or []]
        home = _USERS[user]
        if req.get("login") or req.get("shell"):
            argv = ["/bin/bash", "-l"] + (["-c", " ".join(argv)] if argv else [])
        env = sbx.base_env(user)
        env.update({str(k): str(v) for k, v in (req.get("env") or {}).items()})
        env.update({
            "USER": user, "LOGNAME": user, "SHELL": "/bin/bash",
            "SUDO_USER": str(req.get("caller", "user")), "SUDO_UID": str(req.get("uid", "")),
            "SUDO_GID": str(req.get("gid", "")), "SUDO_COMMAND": " ".join(argv),
        })  # fmt: skip
        if not (req.get("env") and "HOME" in req["env"]):
            env["HOME"] = home
        cwd = home if req.get("login") else str(req.get("cwd") or home)
        trampoline = 'cd "$1" 2>/dev/null || cd; shift; exec "$@"'
        full = self.isolation.exec_prefix(sbx.ns, user) + ["/bin/sh", "-c", trampoline, "sh", cwd, *argv]
        proc = await asyncio.create_subprocess_exec(
            *full,
            stdin=fds[0],
            stdout=fds[1],
            stderr=fds[2],
            env=env,
            pass_fds=sbx.ns.fds if sbx.ns is not None else (),
            start_new_session=True,
        )
        self.children.add(proc)
        return proc

    def close(self) -> None:
        self._accept.cancel()
        for task in list(self.tasks):
            task.cancel()
        for proc in list(self.children):
            _kill(proc, signal.SIGKILL)
        self.sock.close()


def _kill(proc: asyncio.subprocess.Process, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)
