"""Sandboxes: their lifetime, private root and isolation.

A sandbox is a folder on the host (``<state>/sandboxes/<id>/``) holding its ``home/user``,
``tmp``, ``root`` (root's home), ``run`` and a generated ``etc/passwd``/``etc/group``, plus
(with bubblewrap, :mod:`.isolation`) one long-lived ``bwrap`` process (``sleep infinity``
inside) that owns the sandbox's mount, PID, IPC, UTS (host name ``e2b``) and network (see
:mod:`.network`) namespaces. The host's ``/`` is bound read-only; ``/home``, ``/tmp``,
``/root`` and ``/run`` are the sandbox's folders. Every command is started
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
import contextlib
import datetime as dt
import logging
import os
import secrets
import shutil
import signal
import string
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from . import freezer
from .isolation import DEFAULT_PATH, HOME, SANDBOX_UID, Isolation, Namespaces, prepare_root, start_init
from .network import SandboxNetwork
from .sudo import SudoService

if TYPE_CHECKING:
    from .processes import ManagedProcess

log = logging.getLogger("e2b_server.sandboxes")

ENVD_VERSION = "0.6.4"
#: E2B: after an auto-resume a sandbox gets at least five minutes (or its own longer timeout)
AUTO_RESUME_MIN_TIMEOUT = 300
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
    #: what the last pause kept: "full" (processes frozen) or "filesystem" (processes ended)
    pause_mode: str = "full"
    #: lifecycle: whether a timeout's auto-pause keeps memory (``autoPauseMemory``)
    auto_pause_memory: bool = True
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
        internet: bool = True,
        auto_pause_memory: bool = True,
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
            auto_pause_memory=auto_pause_memory,
        )
        await asyncio.to_thread(prepare_root, root)
        if self.isolation.mode == "bwrap":
            sbx.init, sbx.ns = await asyncio.to_thread(start_init, self.isolation, root)
            if self.isolation.network == "private":
                assert self.isolation.slirp4netns is not None and self.isolation.nsenter is not None
                sbx.net = SandboxNetwork(root, sbx.ns.netns_pid, sbx.ns.userns_fd, self.isolation.nsenter)
                try:
                    if internet:  # allow_internet_access=False: loopback only
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
            self.pause(sbx, memory=sbx.auto_pause_memory)
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

    def pause(self, sbx: Sandbox, memory: bool = True) -> bool:
        """Freeze every process of a running sandbox and stop its clock; its files stay.
        Open streams and preview connections are cut (``on_pause`` listeners), as a VM
        snapshot cuts them. ``memory=False`` (``mode="filesystem"``): the processes end
        instead, as a reboot from disk on resume would find none. False when it was already
        paused."""
        if sbx.state == "paused":
            return False
        sbx.state = "paused"
        sbx.pause_mode = "full" if memory else "filesystem"
        if sbx.timer is not None:
            sbx.timer.cancel()
            sbx.timer = None
        for proc in list(sbx.processes.values()):
            proc.pause_deadline()
        sbx.frozen_pids = freezer.freeze(sbx)
        if not memory:
            self._end_processes(sbx)
        for cb in list(self.on_pause):
            try:
                cb(sbx)
            except Exception:
                log.exception("on_pause listener failed")
        log.info("sandbox %s paused (%d processes frozen)", sbx.sandbox_id, len(sbx.frozen_pids))
        return True

    def _end_processes(self, sbx: Sandbox) -> None:
        """Kill every process of the sandbox but its init (a cold boot finds none)."""
        for proc in list(sbx.processes.values()):
            proc.kill_group(signal.SIGKILL)
        for pid in freezer.sandbox_pids(sbx):
            if sbx.ns is None or pid != sbx.ns.netns_pid:  # (its ``sleep infinity`` stays)
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)

    def resume(self, sbx: Sandbox, timeout: float, reboot: bool = False) -> None:
        """Continue a paused sandbox where it stopped, with a new lifetime of ``timeout``
        (``reboot``: from its files only, every process ended)."""
        if sbx.state != "paused":
            return
        if reboot:
            self._end_processes(sbx)
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
