"""Sandboxes: their lifetime, private root and isolation.

A sandbox is a folder on the host (``<state>/sandboxes/<id>/``) holding its ``home/user``,
``tmp``, ``root`` (root's home) and a generated ``etc/passwd``/``etc/group``, plus (with
bubblewrap) one long-lived ``bwrap`` process (``sleep infinity`` inside) that owns the
sandbox's mount, PID, IPC and UTS namespaces (host name ``e2b``). The host's ``/`` is bound
read-only; ``/home``, ``/tmp`` and ``/root`` are the sandbox's folders; there is no network
namespace, so a server inside listens on the host's loopback. Every command is started
*inside* those namespaces with ``nsenter``, so all commands of one sandbox share one process
view (``ps`` shows the sandbox's own processes and nothing else), the same ``/home/user`` and
the same ``/tmp``; the file API reads and writes the same folders from the host, so commands
and the file API see the same paths.

Identity: the host may have no ``user`` account, so each sandbox gets a generated
``/etc/passwd``/``/etc/group`` (bound over the host's inside the sandbox) naming uid/gid 1000
``user`` with home ``/home/user`` (whatever uid 1000 is called on the host). When the server
runs as root, ``user`` commands run as the real uid/gid 1000 and ``root`` commands as root,
and the file API gives what it writes to the requesting user (chown), as envd does. When the
server is not root, bubblewrap's user namespaces map the server's uid to 0 (``root``
commands) and, nested, to 1000 (``user`` commands): every file of the sandbox then belongs on
the host to the server's uid, which the file API reports as ``user``.

Fallback: where ``bwrap``/``nsenter`` cannot create or enter namespaces (no user namespaces),
commands run directly on the host with ``HOME`` and the working directory pointing into the
sandbox folder; the file API still maps ``/home/user`` and ``/tmp`` to that folder, but a
command that spells out ``/home/user`` sees the host's. The server logs which mode it uses.

Killing a sandbox kills its bwrap process: the kernel then kills every process of its PID
namespace. Each command's process group is killed as well (needed in the fallback).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import fcntl
import json
import logging
import os
import secrets
import shutil
import signal
import string
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from . import freezer
from .network import DNS, SandboxNetwork, slirp4netns_path
from .sudo import SudoService, install_shim
from .sudo import bwrap_args as sudo_bwrap_args

if TYPE_CHECKING:
    from .processes import ManagedProcess

log = logging.getLogger("e2b_server.sandboxes")

ENVD_VERSION = "0.6.4"
SANDBOX_UID = 1000
HOME = "/home/user"
#: E2B: after an auto-resume a sandbox gets at least five minutes (or its own longer timeout)
AUTO_RESUME_MIN_TIMEOUT = 300
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
_ID_ALPHABET = string.ascii_lowercase + string.digits


def new_sandbox_id() -> str:
    """An id shaped like E2B's (20 lowercase letters and digits)."""
    return "i" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(19))


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def iso(t: dt.datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


class SandboxGone(Exception):
    """The sandbox was killed or expired."""


@dataclass
class Sandbox:
    sandbox_id: str
    template_id: str
    root: Path
    metadata: dict[str, str]
    env_vars: dict[str, str]
    started_at: dt.datetime
    end_at: dt.datetime
    envd_access_token: str
    client_id: str = "local"
    alive: bool = True  # running or paused (not killed, not expired)
    kill_reason: str = ""
    #: "running" or "paused" (E2B's states; a killed sandbox is not listed at all)
    state: str = "running"
    #: lifecycle: what happens when the lifetime ends ("kill" or "pause"), and whether a
    #: request to a paused sandbox resumes it
    on_timeout: str = "kill"
    auto_resume: bool = False
    #: the timeout (seconds) the sandbox was created with (auto-resume reuses it)
    timeout: int = 300
    frozen_pids: list[int] = field(default_factory=list)
    init: subprocess.Popen | None = None
    ns: Namespaces | None = None  # how to enter the sandbox (bubblewrap mode)
    net: SandboxNetwork | None = None  # its own network namespace (private network mode)
    sudo: SudoService | None = None  # its passwordless sudo (bubblewrap mode)
    processes: dict[int, ManagedProcess] = field(default_factory=dict)
    timer: asyncio.TimerHandle | None = None
    on_kill: list[Callable[[], None]] = field(default_factory=list)
    next_fake_pid: int = 1000

    @property
    def home(self) -> Path:
        return self.root / "home" / "user"

    def host_path(self, path: str, user: str = "user") -> Path:
        """Map a sandbox path (absolute, or relative to the user's home) to a host path."""
        if not path.startswith("/"):
            path = (HOME if user != "root" else "/root") + "/" + path
        norm = os.path.normpath(path)
        if norm.startswith("//"):
            norm = norm[1:]
        for prefix, host in self.private_mounts():
            if norm == prefix or norm.startswith(prefix + "/"):
                return host / norm[len(prefix) :].lstrip("/")
        return Path(norm)

    def private_mounts(self) -> tuple[tuple[str, Path], ...]:
        """Sandbox folders backed by the sandbox's own host folders (the rest is the host's)."""
        return (
            ("/home", self.root / "home"),
            ("/tmp", self.root / "tmp"),
            ("/root", self.root / "root"),
            ("/run", self.root / "run"),
        )

    def writable_path(self, path: str, user: str = "user") -> Path:
        """:meth:`host_path` for a change (write, mkdir, move, remove): only the sandbox's own
        folders are writable; everything else is the host's root, read-only (as the sandbox
        sees it through bubblewrap). Symlinks are resolved before the check."""
        host = self.host_path(path, user)
        real = os.path.realpath(host)
        root = os.path.realpath(self.root)
        if not real.startswith(root + os.sep) or real in (str(h) for _, h in self.private_mounts()):
            raise PermissionError(30, "read-only file system", path)
        return host

    def sandbox_path(self, host: Path) -> str:
        """The inverse of :meth:`host_path`."""
        s = str(host)
        for prefix, h in self.private_mounts():
            hs = str(h)
            if s == hs or s.startswith(hs + "/"):
                return prefix + s[len(hs) :]
        return s

    def base_env(self, user: str) -> dict[str, str]:
        """The environment every command starts with (before the request's own envs)."""
        home = "/root" if user == "root" else HOME
        return {
            "PATH": DEFAULT_PATH,
            "HOME": home,
            "USER": user,
            "LOGNAME": user,
            "SHELL": "/bin/bash",
            "LANG": "C.UTF-8",
            "E2B_SANDBOX": "true",
            # E2B's image lets pip install packages; Debian marks its Python externally managed
            "PIP_BREAK_SYSTEM_PACKAGES": "1",
            "E2B_SANDBOX_ID": self.sandbox_id,
            "E2B_TEMPLATE_ID": self.template_id,
            **self.env_vars,
        }

    def give_to(self, host: Path, user: str) -> None:
        """Make ``host`` belong to the sandbox's ``user`` (uid 1000) or root, when we can."""
        if os.geteuid() != 0:
            return
        uid = 0 if user == "root" else SANDBOX_UID
        try:
            os.lchown(host, uid, uid)
        except OSError:
            pass

    def new_fake_pid(self) -> int:
        self.next_fake_pid += 1
        return self.next_fake_pid


class Isolation:
    """How sandbox processes are isolated: ``bwrap`` (namespaces) or ``none`` (fallback)."""

    def __init__(self, mode: str = "auto", network: str = "auto") -> None:
        self.requested = mode
        self.mode = "none"
        self.reason = ""
        #: "private": each sandbox has its own network namespace (outbound via slirp4netns,
        #: see :mod:`.network`); "host": sandboxes share the host's network
        self.network_requested = network
        self.network = "host"
        self.network_reason = ""
        self.slirp4netns = slirp4netns_path()
        #: the sandbox-private ``sudo`` (see :mod:`.sudo`), written by :meth:`probe`
        self.sudo_shim: Path | None = None
        self.bwrap = shutil.which("bwrap")
        self.nsenter = shutil.which("nsenter")
        #: root runs ``user`` commands as the real uid 1000; anyone else maps its own uid to
        #: 1000 in a user namespace
        self.as_root = os.geteuid() == 0

    def probe(self, scratch: Path) -> None:
        """Decide the mode by starting a throwaway sandbox and running ``true`` inside it."""
        if self.requested == "none":
            self.mode, self.reason = "none", "isolation disabled by --isolation none"
            return
        if not self.bwrap or not self.nsenter:
            self.mode, self.reason = "none", "bwrap or nsenter not installed"
            return
        self.sudo_shim = install_shim(scratch)
        root = scratch / "probe"
        prepare_root(root)
        proc = ns = None
        try:
            proc, ns = start_init(self, root)
            for user in ("user", "root"):
                r = subprocess.run(
                    self.exec_prefix(ns, user) + ["/bin/sh", "-c", "id -u"],
                    capture_output=True,
                    timeout=10,
                    env={"PATH": DEFAULT_PATH},
                    pass_fds=ns.fds,
                    check=False,
                )
                want = "0" if user == "root" else str(SANDBOX_UID)
                if r.returncode != 0 or r.stdout.decode().strip() != want:
                    raise RuntimeError((r.stderr or r.stdout).decode(errors="replace").strip())
            self.mode, self.reason = "bwrap", "bubblewrap with user, mount and PID namespaces"
            self._probe_network(scratch)
        except Exception as e:
            if self.requested == "bwrap":
                raise
            self.mode = "none"
            self.reason = f"bubblewrap unusable here (no user namespaces?): {e}"
        finally:
            if proc is not None:
                proc.kill()
                proc.wait()
            if ns is not None:
                ns.close()
            shutil.rmtree(root, ignore_errors=True)

    def _probe_network(self, scratch: Path) -> None:
        """Decide the network mode: a private namespace per sandbox when slirp4netns can give
        it outbound access here."""
        if self.network_requested == "host":
            self.network, self.network_reason = "host", "host network requested (--network host)"
            return
        if not self.slirp4netns:
            if self.network_requested == "private":
                raise RuntimeError("--network private needs slirp4netns (Debian package slirp4netns)")
            self.network, self.network_reason = "host", "slirp4netns not installed: sandboxes share the host network"
            return
        self.network = "private"
        root = scratch / "probe-net"
        prepare_root(root)
        proc = ns = net = None
        try:
            proc, ns = start_init(self, root)
            net = SandboxNetwork(root, ns.netns_pid, ns.userns_fd, self.nsenter or "nsenter")
            net.start_outbound(self.slirp4netns)
            self.network_reason = "a network namespace per sandbox, outbound through slirp4netns"
        except Exception as e:
            if self.network_requested == "private":
                raise
            self.network = "host"
            self.network_reason = f"private network unusable here: {e}"
        finally:
            if net is not None:
                net.close()
            if proc is not None:
                proc.kill()
                proc.wait()
            if ns is not None:
                ns.close()
            shutil.rmtree(root, ignore_errors=True)

    def init_argv(self, root: Path, status_fd: int) -> list[str]:
        assert self.bwrap
        userns = [] if self.as_root else [
            "--unshare-user", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID),
        ]  # fmt: skip
        return [
            self.bwrap,
            *userns,
            "--unshare-pid",
            "--unshare-ipc",
            "--unshare-uts",
            *(["--unshare-net"] if self.network == "private" else []),
            "--hostname", "e2b",
            "--ro-bind", "/", "/",
            "--dev", "/dev",
            "--dev-bind", "/dev/pts", "/dev/pts",  # so a PTY's slave has a name (tty, ttyname)
            "--proc", "/proc",
            "--bind", str(root / "home"), "/home",
            "--bind", str(root / "tmp"), "/tmp",
            "--bind", str(root / "root"), "/root",
            "--ro-bind", str(root / "etc" / "passwd"), "/etc/passwd",
            "--ro-bind", str(root / "etc" / "group"), "/etc/group",
            *self._resolv_conf(root),
            *(sudo_bwrap_args(root, self.sudo_shim) if self.sudo_shim is not None else []),
            "--die-with-parent",
            "--json-status-fd", str(status_fd),
            "--chdir", HOME,
            "--", "sleep", "infinity",
        ]  # fmt: skip

    def _resolv_conf(self, root: Path) -> list[str]:
        """With a private network, the sandbox's DNS is slirp4netns's forwarder."""
        if self.network != "private" or not os.path.exists("/etc/resolv.conf"):
            return []
        conf = root / "etc" / "resolv.conf"
        conf.write_text(f"nameserver {DNS}\n")
        return ["--ro-bind", str(conf), "/etc/resolv.conf"]

    def exec_prefix(self, ns: Namespaces | None, user: str) -> list[str]:
        """argv prefix that runs a program inside the sandbox as ``user`` (the caller passes
        ``ns.fds`` to the child)."""
        if ns is None:
            return []
        assert self.nsenter
        argv = [self.nsenter, "-t", str(ns.pid), "-m", "-p", "-u", "-i"]
        if self.network == "private":
            argv.append("-n")
        if self.as_root:
            if user != "root":
                argv += ["-S", str(SANDBOX_UID), "-G", str(SANDBOX_UID)]
            return argv + ["--"]
        # Unprivileged: bubblewrap made two user namespaces: the outer one owns the sandbox's
        # other namespaces (the server's uid is 0 there: the sandbox's root), the inner one
        # maps it to uid 1000 for the sandbox's processes. Enter the outer one with the other
        # namespaces, then (for ``user``) the inner one, through pid 2 of the sandbox (its
        # ``sleep infinity``; bwrap's pid 1 is not dumpable, so its ns files cannot be opened).
        assert ns.userns_fd is not None
        argv += [f"--user=/proc/self/fd/{ns.userns_fd}", "--preserve-credentials", "-r", "--"]
        if user != "root":
            argv += [self.nsenter, "-t", "2", "-U", "--preserve-credentials", "--"]
        return argv


def prepare_root(root: Path) -> None:
    """Create a sandbox's private folders and its passwd/group with a ``user`` account."""
    (root / "home" / "user").mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        os.chown(root / "home" / "user", SANDBOX_UID, SANDBOX_UID)
    (root / "tmp").mkdir(parents=True, exist_ok=True)
    os.chmod(root / "tmp", 0o1777)
    (root / "root").mkdir(mode=0o700, exist_ok=True)
    etc = root / "etc"
    etc.mkdir(exist_ok=True)
    passwd = [
        line
        for line in Path("/etc/passwd").read_text().splitlines()
        if line and line.split(":")[0] != "user" and line.split(":")[2:3] != [str(SANDBOX_UID)]
    ]
    passwd.append(f"user:x:{SANDBOX_UID}:{SANDBOX_UID}:user:{HOME}:/bin/bash")
    (etc / "passwd").write_text("\n".join(passwd) + "\n")
    group = [
        line
        for line in Path("/etc/group").read_text().splitlines()
        if line and line.split(":")[0] != "user" and line.split(":")[2:3] != [str(SANDBOX_UID)]
    ]
    group.append(f"user:x:{SANDBOX_UID}:")
    (etc / "group").write_text("\n".join(group) + "\n")


@dataclass
class Namespaces:
    """A running sandbox's namespaces: the host pid of its init, and (unprivileged mode) an fd
    of the user namespace that owns them."""

    pid: int
    #: host pid of the sandbox's ``sleep infinity`` (pid 2 inside): its namespace files can
    #: be opened even where bwrap's own pid 1 is not dumpable
    netns_pid: int = 0
    userns_fd: int | None = None

    @property
    def fds(self) -> tuple[int, ...]:
        return () if self.userns_fd is None else (self.userns_fd,)

    def close(self) -> None:
        if self.userns_fd is not None:
            os.close(self.userns_fd)
            self.userns_fd = None


_NS_GET_USERNS = 0xB701  # ioctl: the user namespace owning a namespace


def start_init(iso_: Isolation, root: Path) -> tuple[subprocess.Popen, Namespaces]:
    """Start the sandbox's bwrap process; return it and how to enter its namespaces."""
    r, w = os.pipe()
    try:
        proc = subprocess.Popen(
            iso_.init_argv(root, w),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            pass_fds=(w,),
            start_new_session=True,
            env={"PATH": DEFAULT_PATH},
        )
    finally:
        os.close(w)
    with os.fdopen(r, "rb") as f:
        line = f.readline()
    if not line:
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        proc.kill()
        proc.wait()
        raise RuntimeError(f"bwrap failed: {err.strip()}")
    if proc.stderr:
        proc.stderr.close()
    ns = Namespaces(int(json.loads(line)["child-pid"]))
    ns.netns_pid = _wait_for_sandbox_ready(ns.pid)
    if not iso_.as_root:
        fd = os.open(f"/proc/{ns.pid}/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
        try:
            ns.userns_fd = fcntl.ioctl(fd, _NS_GET_USERNS)
        finally:
            os.close(fd)
    return proc, ns


def _wait_for_sandbox_ready(init_pid: int, timeout: float = 5.0) -> int:
    """Wait until the sandbox's ``sleep infinity`` (pid 2 inside) has exec'd.

    bwrap reports its child's pid before that child has finished building the sandbox's
    mounts; entering the mount namespace earlier can find it half-built (no ``/bin/bash``).
    bwrap execs the command last, so once ``sleep`` runs, the sandbox is complete (and its
    namespace files can be opened, which the unprivileged mode needs)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            kids = Path(f"/proc/{init_pid}/task/{init_pid}/children").read_text().split()
            if kids and Path(f"/proc/{kids[0]}/comm").read_text().strip() == "sleep":
                os.close(os.open(f"/proc/{kids[0]}/ns/user", os.O_RDONLY | os.O_CLOEXEC))
                return int(kids[0])
        except OSError:
            pass
        time.sleep(0.002)
    raise RuntimeError("the sandbox's init did not start")


class SandboxManager:
    """All sandboxes of the server, their timers, and the configured templates."""

    def __init__(self, state_dir: Path, isolation: Isolation, templates: set[str]) -> None:
        self.state_dir = state_dir
        self.isolation = isolation
        self.templates = templates
        self.sandboxes: dict[str, Sandbox] = {}
        self.dead: dict[str, str] = {}  # id -> reason
        #: called with a sandbox that was just paused (the server cuts its streams)
        self.on_pause: list[Callable[[Sandbox], None]] = []

    def get(self, sandbox_id: str) -> Sandbox | None:
        """A sandbox that is running or paused."""
        sbx = self.sandboxes.get(sandbox_id)
        return sbx if sbx is not None and sbx.alive else None

    def get_running(self, sandbox_id: str, resume: bool = True) -> Sandbox | None:
        """A running sandbox, as E2B's proxy routes requests: a paused one is resumed first
        when it has ``auto_resume`` (and ``resume`` is set), else it is not found."""
        sbx = self.get(sandbox_id)
        if sbx is None:
            return None
        if sbx.state == "paused":
            if not (resume and sbx.auto_resume):
                return None
            self.resume(sbx, max(AUTO_RESUME_MIN_TIMEOUT, sbx.timeout))
            log.info("sandbox %s auto-resumed", sandbox_id)
        return sbx

    async def create(
        self,
        template: str,
        timeout: int,
        metadata: dict[str, str],
        env_vars: dict[str, str],
        on_timeout: str = "kill",
        auto_resume: bool = False,
    ) -> Sandbox:
        sandbox_id = new_sandbox_id()
        root = self.state_dir / "sandboxes" / sandbox_id
        now = utcnow()
        sbx = Sandbox(
            sandbox_id=sandbox_id,
            template_id=template,
            root=root,
            metadata=dict(metadata),
            env_vars=dict(env_vars),
            started_at=now,
            end_at=now + dt.timedelta(seconds=timeout),
            envd_access_token=secrets.token_urlsafe(24),
            on_timeout=on_timeout,
            auto_resume=auto_resume,
            timeout=timeout,
        )
        await asyncio.to_thread(prepare_root, root)
        if self.isolation.mode == "bwrap":
            sbx.init, sbx.ns = await asyncio.to_thread(start_init, self.isolation, root)
            if self.isolation.network == "private":
                assert self.isolation.slirp4netns is not None and self.isolation.nsenter is not None
                sbx.net = SandboxNetwork(root, sbx.ns.netns_pid, sbx.ns.userns_fd, self.isolation.nsenter)
                try:
                    await asyncio.to_thread(sbx.net.start_outbound, self.isolation.slirp4netns)
                except Exception:
                    sbx.init.kill()
                    sbx.init.wait()
                    sbx.ns.close()
                    raise
        if sbx.ns is not None:
            sbx.sudo = SudoService(sbx, self.isolation)
        self.sandboxes[sandbox_id] = sbx
        self.schedule_expiry(sbx)
        log.info("sandbox %s created (template %s, timeout %ss)", sandbox_id, template, timeout)
        return sbx

    def schedule_expiry(self, sbx: Sandbox) -> None:
        if sbx.timer is not None:
            sbx.timer.cancel()
        delay = max(0.0, (sbx.end_at - utcnow()).total_seconds())
        sbx.timer = asyncio.get_running_loop().call_later(delay, lambda: self._lifetime_ended(sbx))

    def _lifetime_ended(self, sbx: Sandbox) -> None:
        sbx.timer = None
        if sbx.on_timeout == "pause" and sbx.alive and sbx.state == "running":
            log.info("sandbox %s lifetime ended: pausing (lifecycle on_timeout=pause)", sbx.sandbox_id)
            self.pause(sbx)
        else:
            self.kill(sbx.sandbox_id, "expired")

    def set_timeout(self, sbx: Sandbox, timeout: float) -> None:
        sbx.end_at = utcnow() + dt.timedelta(seconds=timeout)
        self.schedule_expiry(sbx)

    def extend_to(self, sbx: Sandbox, timeout: float) -> None:
        """``connect(timeout)`` on a running sandbox: the end moves only if it gets later."""
        end = utcnow() + dt.timedelta(seconds=timeout)
        if end > sbx.end_at:
            sbx.end_at = end
            self.schedule_expiry(sbx)

    def pause(self, sbx: Sandbox) -> bool:
        """Freeze every process of a running sandbox and stop its clock; its files stay.
        Open streams and preview connections are cut (``on_pause`` listeners), as a VM
        snapshot cuts them. False when it was already paused."""
        if sbx.state == "paused":
            return False
        sbx.state = "paused"
        if sbx.timer is not None:
            sbx.timer.cancel()
            sbx.timer = None
        for proc in list(sbx.processes.values()):
            proc.pause_deadline()
        sbx.frozen_pids = freezer.freeze(sbx)
        for cb in list(self.on_pause):
            try:
                cb(sbx)
            except Exception:
                log.exception("on_pause listener failed")
        log.info("sandbox %s paused (%d processes frozen)", sbx.sandbox_id, len(sbx.frozen_pids))
        return True

    def resume(self, sbx: Sandbox, timeout: float) -> None:
        """Continue a paused sandbox where it stopped, with a new lifetime of ``timeout``."""
        if sbx.state != "paused":
            return
        freezer.thaw(sbx, sbx.frozen_pids)
        sbx.frozen_pids = []
        sbx.state = "running"
        for proc in list(sbx.processes.values()):
            proc.resume_deadline()
        self.set_timeout(sbx, timeout)
        log.info("sandbox %s resumed (timeout %ss)", sbx.sandbox_id, timeout)

    def kill(self, sandbox_id: str, reason: str = "killed") -> bool:
        """Kill a sandbox and everything running in it. False if it was not running."""
        sbx = self.sandboxes.pop(sandbox_id, None)
        if sbx is None or not sbx.alive:
            return False
        sbx.alive = False
        sbx.kill_reason = reason
        self.dead[sandbox_id] = reason
        if sbx.timer is not None:
            sbx.timer.cancel()
        for proc in list(sbx.processes.values()):
            proc.kill_group(signal.SIGKILL)
        if sbx.state == "paused":  # SIGKILL ends stopped processes too; continue the rest
            freezer.thaw(sbx, sbx.frozen_pids)
        if sbx.init is not None and sbx.init.poll() is None:
            sbx.init.kill()
            sbx.init.wait()
        if sbx.sudo is not None:
            sbx.sudo.close()
        if sbx.net is not None:
            sbx.net.close()
        if sbx.ns is not None:
            sbx.ns.close()
        for cb in list(sbx.on_kill):
            try:
                cb()
            except Exception:
                log.exception("on_kill listener failed")
        for proc in list(sbx.processes.values()):
            proc.sandbox_died()
        log.info("sandbox %s %s", sandbox_id, reason)
        return True

    def kill_all(self) -> None:
        for sandbox_id in list(self.sandboxes):
            self.kill(sandbox_id, "killed")

    def cleanup_dirs(self) -> None:
        shutil.rmtree(self.state_dir / "sandboxes", ignore_errors=True)
