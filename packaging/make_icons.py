"""Render the app icon from its SVG source into every file the installers need.

    python packaging/make_icons.py            # write resources/icons/…, .ico, .icns
    python packaging/make_icons.py --check    # exit 1 if the committed files are stale

Outputs (all under ``resources/``):

- ``icons/hicolor/<N>x<N>/apps/sesame-desktop.png`` for every size in :data:`PNG_SIZES`
  (the freedesktop icon theme layout, copied as-is into the ``.deb``);
- ``icons/hicolor/scalable/apps/sesame-desktop.svg``, a copy of the source;
- ``sesame-desktop.ico`` (Windows: the ``.exe`` and the installer) with PNG-compressed
  entries, which Windows reads since Vista;
- ``sesame-desktop.icns`` (macOS: the ``.app`` bundle) with PNG entries.

Both containers are written by hand (they are a small header plus PNGs), so no imaging
library is needed: Qt's SVG renderer (in PySide6-Essentials) draws the pixels.
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt  # noqa: E402 - after the platform choice
from PySide6.QtGui import QGuiApplication, QImage, QPainter  # noqa: E402
from PySide6.QtSvg import QSvgRenderer  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "sesame_desktop" / "resources" / "sesame-desktop.svg"
RESOURCES = ROOT / "resources"
ICON_NAME = "sesame-desktop"

PNG_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# icns element types holding PNG data, by pixel size (ic10 is the 512@2x slot, 1024 px).
ICNS_TYPES = (
    (b"icp4", 16),
    (b"icp5", 32),
    (b"icp6", 64),
    (b"ic07", 128),
    (b"ic08", 256),
    (b"ic09", 512),
    (b"ic10", 1024),
)


def png_path(size: int, root: Path = RESOURCES) -> Path:
    return root / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{ICON_NAME}.png"


def render_png(renderer: QSvgRenderer, size: int) -> bytes:
    """The icon drawn at ``size`` × ``size`` pixels, as PNG bytes."""
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise RuntimeError(f"could not encode the {size} px icon as PNG")
    buffer.close()
    return bytes(data.data())


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """An ``.ico`` file: ICONDIR, one ICONDIRENTRY per size, then the PNG images."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = len(header) + 16 * len(sizes)
    entries, images = b"", b""
    for size in sizes:
        png = pngs[size]
        dim = 0 if size >= 256 else size  # 0 means 256 in the one-byte width/height fields
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(png), offset)
        images += png
        offset += len(png)
    return header + entries + images


def icns_bytes(pngs: dict[int, bytes]) -> bytes:
    """An ``.icns`` file: the ``icns`` header, then one typed element per PNG."""
    body = b"".join(
        kind + struct.pack(">I", 8 + len(pngs[size])) + pngs[size] for kind, size in ICNS_TYPES
    )
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def generate() -> dict[Path, bytes]:
    """Every output file (path under ``resources/`` → content), rendered from the source."""
    renderer = QSvgRenderer(str(SOURCE))
    if not renderer.isValid():
        raise RuntimeError(f"{SOURCE} is not a valid SVG")
    sizes = sorted(set(PNG_SIZES) | set(ICO_SIZES) | {size for _, size in ICNS_TYPES})
    pngs = {size: render_png(renderer, size) for size in sizes}
    files: dict[Path, bytes] = {png_path(size): pngs[size] for size in PNG_SIZES}
    files[RESOURCES / "icons" / "hicolor" / "scalable" / "apps" / f"{ICON_NAME}.svg"] = SOURCE.read_bytes()
    files[RESOURCES / f"{ICON_NAME}.ico"] = ico_bytes({s: pngs[s] for s in ICO_SIZES})
    files[RESOURCES / f"{ICON_NAME}.icns"] = icns_bytes({s: pngs[s] for _, s in ICNS_TYPES})
    return files


def same_image(path: Path, content: bytes) -> bool:
    """Whether ``path`` holds ``content``, or (for a PNG) the same pixels encoded differently.

    Qt's PNG encoder (zlib) differs between platforms, so pixels are compared, not bytes.
    """
    existing = path.read_bytes()
    if existing == content:
        return True
    if path.suffix != ".png":
        return False
    return QImage.fromData(existing) == QImage.fromData(content)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that the committed icons are current")
    args = parser.parse_args(argv)
    if QGuiApplication.instance() is None:
        _app = QGuiApplication(sys.argv[:1])  # QPainter needs one
    files = generate()
    stale = [path for path, content in files.items() if not path.exists() or not same_image(path, content)]
    if args.check:
        for path in stale:
            print(f"stale: {path.relative_to(ROOT)}", file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(files[path])
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
