"""How a sandbox is isolated: bubblewrap namespaces entered with ``nsenter`` (see
:mod:`.sandboxes` for the whole picture), the probe that decides the mode, and the sandbox's
private root folders."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from .network import DNS, SandboxNetwork, slirp4netns_path
from .sudo import bwrap_args as sudo_bwrap_args
from .sudo import install_shim

SANDBOX_UID = 1000
HOME = "/home/user"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


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
