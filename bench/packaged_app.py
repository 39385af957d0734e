"""Packaged-app benchmark: the frozen bundle against ``python -m sesame_desktop``, same run.

Run from the repository root (Linux, with dbus and gnome-keyring installed)::

    python bench/packaged_app.py            # 5 launches of each, medians
    python bench/packaged_app.py --runs 9

Builds the bundle (``packaging/build.py``) and the ``.deb`` (``packaging/linux/build-deb.sh
--no-build``) first when ``dist/`` has none, and reports:

- the bundle's size on disk and the ``.deb``'s size (ratio: ``.deb`` / bundle);
- launch → first shown window: from just before the process is started to the moment its
  ``smoke: window: ok`` line arrives, which the smoke mode prints as soon as the main window
  is exposed; the bundle's median against the source run's (ratio: bundle / source);
- launch → exit of the whole smoke run (window, settings, keyring round trip, one local
  command, shut-down), the same way.

Every launch runs the app's ``--smoke`` mode offscreen, with a private home and a real
gnome-keyring on a private D-Bus session started once for the benchmark; the runs of the
source and of the bundle alternate, so that machine noise hits both alike. A launch whose
smoke run fails aborts the benchmark. Results also go to ``bench/results/packaged_app.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _load_build_module():
    """``packaging/build.py`` (``packaging/`` is not a package: it would shadow PyPI's)."""
    spec = importlib.util.spec_from_file_location("sesame_packaging_build", ROOT / "packaging" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_build = _load_build_module()
bundle_dir, frozen_executable, tree_size = _build.bundle_dir, _build.frozen_executable, _build.tree_size

WINDOW_LINE = "smoke: window: ok"


@dataclass(frozen=True)
class Launch:
    """One smoke run: seconds from launch to the shown window and to exit; the window line."""

    to_window: float
    to_exit: float
    window_line: str = ""


def launch(command: list[str], env: dict[str, str], timeout_s: float = 120.0) -> Launch:
    """Start ``command`` (a ``--smoke`` run) and time its window line and its exit."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, bufsize=1, cwd=ROOT)
    to_window = None
    window_line = ""
    lines = []
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.append(line.rstrip())
        if to_window is None and line.startswith(WINDOW_LINE):
            to_window = time.perf_counter() - started
            window_line = line.rstrip()
    _, stderr = proc.communicate(timeout=timeout_s)
    to_exit = time.perf_counter() - started
    if proc.returncode != 0 or to_window is None:
        output = "\n".join(lines) + "\n" + stderr[-2000:]
        sys.exit(f"{' '.join(command)} failed (exit {proc.returncode}):\n{output}")
    return Launch(to_window, to_exit, window_line)


def ensure_built() -> Path | None:
    """Build what is missing; returns the ``.deb`` (None where dpkg-deb is not available)."""
    if not frozen_executable().exists():
        subprocess.run([sys.executable, str(ROOT / "packaging" / "build.py")], check=True, cwd=ROOT)
    debs = sorted((ROOT / "dist").glob("sesame-desktop_*.deb"))
    if not debs and shutil.which("dpkg-deb"):
        subprocess.run([str(ROOT / "packaging" / "linux" / "build-deb.sh"), "--no-build"], check=True, cwd=ROOT,
                       env={**os.environ, "PYTHON": sys.executable})
        debs = sorted((ROOT / "dist").glob("sesame-desktop_*.deb"))
    return debs[-1] if debs else None


def private_env(base: Path) -> dict[str, str]:
    """A clean environment with a private home and XDG folders under ``base``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("E2B_", "SANDBOX_", "XDG_", "DBUS_"))}
    home = base / "home"
    env.update(HOME=str(home), QT_QPA_PLATFORM="offscreen", TMPDIR=str(base / "tmp"))
    for var, sub in (("XDG_CONFIG_HOME", ".config"), ("XDG_DATA_HOME", ".local/share"),
                     ("XDG_STATE_HOME", ".local/state"), ("XDG_CACHE_HOME", ".cache")):
        env[var] = str(home / sub)
        (home / sub).mkdir(parents=True, exist_ok=True)
    (base / "tmp").mkdir()
    runtime = base / "run"
    runtime.mkdir(mode=0o700)
    env["XDG_RUNTIME_DIR"] = str(runtime)
    return env


@contextlib.contextmanager
def keyring_env(base: Path) -> Iterator[dict[str, str]]:
    """:func:`private_env` under ``base`` with a real gnome-keyring on a private D-Bus session
    running in it, for the launches made inside the ``with`` block."""
    from tests.fixtures.keyring_service import RunningSecretService

    env = private_env(base)
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the keyring daemon inherits the private home
    service = RunningSecretService(base / "keyring")
    try:
        service.wait_ready()
        env.update(service.info.env)
        yield env
    finally:
        service.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def median_line(label: str, source: list[float], bundle: list[float]) -> dict[str, float]:
    src, frz = statistics.median(source), statistics.median(bundle)
    print(f"{label:<28} source {src * 1000:7.0f} ms   bundle {frz * 1000:7.0f} ms   "
          f"ratio bundle/source {frz / src:5.2f}   (medians of {len(source)}; "
          f"source {min(source) * 1000:.0f}-{max(source) * 1000:.0f}, "
          f"bundle {min(bundle) * 1000:.0f}-{max(bundle) * 1000:.0f})")
    return {"source_s": src, "bundle_s": frz, "ratio": frz / src}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="launches of each (default 5)")
    args = parser.parse_args()

    deb = ensure_built()
    bundle_bytes = tree_size(bundle_dir())
    results: dict[str, object] = {"bundle_bytes": bundle_bytes}
    print(f"{'bundle size':<28} {bundle_bytes / 1e6:7.1f} MB   ({bundle_dir().relative_to(ROOT)})")
    if deb is not None:
        deb_bytes = deb.stat().st_size
        results["deb_bytes"] = deb_bytes
        print(f"{'.deb size':<28} {deb_bytes / 1e6:7.1f} MB   ratio .deb/bundle {deb_bytes / bundle_bytes:.2f}   "
              f"({deb.relative_to(ROOT)})")

    with tempfile.TemporaryDirectory(prefix="sesame-bench-") as tmp, keyring_env(Path(tmp)) as env:
        source_cmd = [sys.executable, "-m", "sesame_desktop", "--smoke"]
        bundle_cmd = [str(frozen_executable()), "--smoke"]
        launch(source_cmd, env)  # warm the file cache for both before measuring
        launch(bundle_cmd, env)
        source: list[Launch] = []
        bundle: list[Launch] = []
        for _ in range(args.runs):
            source.append(launch(source_cmd, env))
            bundle.append(launch(bundle_cmd, env))
    results["launch_to_window"] = median_line("launch -> window shown", [r.to_window for r in source],
                                              [r.to_window for r in bundle])
    results["launch_to_exit"] = median_line("launch -> smoke run done", [r.to_exit for r in source],
                                            [r.to_exit for r in bundle])
    out = ROOT / "bench" / "results" / "packaged_app.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results: {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
