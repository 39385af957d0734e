"""The PyInstaller spec: it runs, keeps what the app needs, and drops only what it never uses.

The spec is executed with PyInstaller's real hook utilities and recording stand-ins for the
build classes (``Analysis``, ``EXE``…), which would otherwise start a 20-second build; the
full build is the separate CI step ``packaging/linux/smoke-deb.sh``.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "packaging" / "sesame-desktop.spec"

NEEDED = [
    "PySide6/Qt/lib/libQt6Core.so.6", "PySide6/Qt/lib/libQt6Gui.so.6", "PySide6/Qt/lib/libQt6Widgets.so.6",
    "PySide6/Qt/lib/libQt6DBus.so.6", "PySide6/Qt/lib/libQt6Svg.so.6", "PySide6/Qt/lib/libQt6XcbQpa.so.6",
    "PySide6/Qt/lib/libQt6WaylandClient.so.6", "PySide6/Qt/lib/libicudata.so.73",
    "PySide6/Qt/plugins/platforms/libqxcb.so", "PySide6/Qt/plugins/platforms/libqoffscreen.so",
    "PySide6/Qt/plugins/platforms/libqwayland.so", "PySide6/Qt/plugins/iconengines/libqsvgicon.so",
    "PySide6/Qt/plugins/imageformats/libqsvg.so", "PySide6/Qt/plugins/platformthemes/libqxdgdesktopportal.so",
    "libpython3.11.so.1.0", "libglib-2.0.so.0", "libdbus-1.so.3", "libxcb-cursor.so.0", "libxkbcommon.so.0",
    "libxkbcommon-x11-0.so.0", "libssl.so.3", "libcrypto.so.3", "libz.so.1", "libfontconfig.so.1",
    "libfreetype.so.6", "libX11.so.6", "libX11-xcb.so.1", "libxcb-xkb.so.1",
]
DROPPED = [
    "PySide6/Qt/lib/libQt6Qml.so.6", "PySide6/Qt/lib/libQt6Quick.so.6", "PySide6/Qt/lib/libQt6Network.so.6",
    "PySide6/Qt/lib/libQt6Pdf.so.6", "PySide6/Qt/plugins/tls/libqopensslbackend.so",
    "PySide6/Qt/plugins/platforms/libqeglfs.so", "PySide6/Qt/plugins/platforms/libqvnc.so",
    "PySide6/Qt/plugins/platformthemes/libqgtk3.so", "libQt6EglFSDeviceIntegration.so.6",
    "libgtk-3.so.0", "libgdk-3.so.0", "libcairo.so.2", "libpango-1.0.so.0", "libgio-2.0.so.0",
    "libgobject-2.0.so.0", "libharfbuzz.so.0", "libkrb5.so.3", "libXext.so.6", "libXi.so.6",
]


class Recorder:
    """Stand-ins for PyInstaller's build classes that record how the spec calls them."""

    def __init__(self) -> None:
        self.calls: dict[str, Any] = {}

    def stub(self, name: str) -> type:
        recorder = self

        class Stub:
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                self.args, self.kwargs = args, kwargs
                recorder.calls[name] = self
                if name == "Analysis":  # what a real analysis of a Linux build collects
                    self.binaries = [(dest, f"/src/{dest}", "BINARY") for dest in NEEDED + DROPPED]
                    self.datas = list(kwargs["datas"])
                    self.pure, self.scripts = [], []

        Stub.__name__ = name
        return Stub


@pytest.fixture(scope="module")
def spec() -> tuple[dict[str, Any], Recorder]:
    if importlib.util.find_spec("PyInstaller") is None:
        pytest.fail('PyInstaller is missing: pip install -e ".[package]"')
    recorder = Recorder()
    namespace: dict[str, Any] = {"SPECPATH": str(SPEC.parent), "__file__": str(SPEC)}
    for name in ("Analysis", "PYZ", "EXE", "COLLECT", "BUNDLE"):
        namespace[name] = recorder.stub(name)
    exec(compile(SPEC.read_text(), str(SPEC), "exec"), namespace)  # noqa: S102 - the project's own spec
    return namespace, recorder


def test_one_folder_bundle_of_the_package_entry_point(spec):
    _, recorder = spec
    analysis = recorder.calls["Analysis"]
    (script,) = analysis.args[0]
    assert Path(script) == ROOT / "sesame_desktop" / "__main__.py"
    exe = recorder.calls["EXE"]
    assert exe.kwargs["exclude_binaries"] is True and exe.kwargs["name"] == "sesame-desktop"
    assert exe.kwargs["console"] is False
    assert recorder.calls["COLLECT"].kwargs["name"] == "sesame-desktop"
    for hook in analysis.kwargs["runtime_hooks"]:
        assert Path(hook).is_file()


def test_keyring_backends_and_metadata_are_kept(spec):
    namespace, recorder = spec
    analysis = recorder.calls["Analysis"]
    hidden = analysis.kwargs["hiddenimports"]
    assert {"keyring.backends.SecretService", "keyring.backends.macOS", "keyring.backends.Windows",
            "keyring.backends.kwallet", "keyring.backends.chainer", "keyring.backends.fail"} <= set(hidden)
    destinations = {Path(dest).as_posix() for _, dest in analysis.kwargs["datas"]}
    assert "sesame_desktop/resources" in destinations
    for dist in ("sesame_desktop", "keyring", "e2b"):
        assert any(d.lower().startswith(dist.lower()) and d.endswith(("-info",)) for d in destinations), dist
    assert namespace["VERSION"] == __import__("sesame_desktop").__version__


def test_qt_libraries_the_app_needs_stay_and_unused_ones_go(spec):
    _, recorder = spec
    kept = {dest for dest, _, _ in recorder.calls["COLLECT"].args[1]}
    assert set(NEEDED) <= kept, sorted(set(NEEDED) - kept)
    assert not kept & set(DROPPED), sorted(kept & set(DROPPED))


def test_icons_the_spec_names_exist(spec):
    namespace, _ = spec
    assert (ROOT / "resources" / "sesame-desktop.ico").is_file()
    assert (ROOT / "resources" / "sesame-desktop.icns").is_file()
    assert namespace["VERSION_TUPLE"][:3] == tuple(int(n) for n in namespace["VERSION"].split(".")[:3])


def test_the_app_imports_none_of_the_excluded_modules(spec):
    """Every module of the app imported: none of the modules the spec leaves out appears."""
    namespace, _ = spec
    excluded = namespace["QT_EXCLUDES"] + namespace["OTHER_EXCLUDES"]
    code = (
        "import os, sys, pkgutil, importlib\n"
        "os.environ['QT_QPA_PLATFORM'] = 'offscreen'\n"
        "import PySide6, sesame_desktop\n"
        "for info in pkgutil.walk_packages(sesame_desktop.__path__, 'sesame_desktop.'):\n"
        "    importlib.import_module(info.name)\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code],
                            check=False, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    loaded = set(result.stdout.split())
    assert "sesame_desktop.smoke" in loaded and "sesame_desktop.app" in loaded
    offending = {m for m in loaded for ex in excluded if m == ex or m.startswith(ex + ".")}
    assert not offending, f"the app imports modules the spec excludes: {sorted(offending)}"
