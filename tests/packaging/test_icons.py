"""The generated icons: every size and format the installers need, valid and current."""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RESOURCES = ROOT / "resources"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
THEME_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
ICNS_SIZES = {b"icp4": 16, b"icp5": 32, b"icp6": 64, b"ic07": 128, b"ic08": 256, b"ic09": 512, b"ic10": 1024}


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (which must come first)."""
    assert data[:8] == PNG_MAGIC, "not a PNG"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    return struct.unpack(">II", data[16:24])


@pytest.mark.parametrize("size", THEME_SIZES)
def test_theme_png_has_its_size_and_an_alpha_channel(size: int):
    data = (RESOURCES / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "sesame-desktop.png").read_bytes()
    assert png_size(data) == (size, size)
    bit_depth, colour_type = data[24], data[25]
    assert (bit_depth, colour_type) == (8, 6), "expected 8-bit RGBA"


def test_scalable_icon_is_the_runtime_svg():
    source = (ROOT / "sesame_desktop" / "resources" / "sesame-desktop.svg").read_bytes()
    assert (RESOURCES / "icons" / "hicolor" / "scalable" / "apps" / "sesame-desktop.svg").read_bytes() == source


def test_ico_directory_points_at_pngs_of_the_sizes_it_claims():
    data = (RESOURCES / "sesame-desktop.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", data[:6])
    assert (reserved, kind) == (0, 1) and count >= 7
    sizes = []
    for i in range(count):
        width, height, _colours, _, planes, bpp, length, offset = struct.unpack(
            "<BBBBHHII", data[6 + 16 * i: 22 + 16 * i])
        image = data[offset: offset + length]
        assert len(image) == length
        real = png_size(image)
        assert real == ((width or 256), (height or 256))
        assert (planes, bpp) == (1, 32)
        sizes.append(real[0])
    assert {16, 24, 32, 48, 256} <= set(sizes)


def test_icns_elements_are_pngs_of_their_slot_sizes():
    data = (RESOURCES / "sesame-desktop.icns").read_bytes()
    assert data[:4] == b"icns"
    assert struct.unpack(">I", data[4:8])[0] == len(data)
    found = {}
    pos = 8
    while pos < len(data):
        kind, length = struct.unpack(">4sI", data[pos: pos + 8])
        assert length > 8 and pos + length <= len(data)
        found[kind] = png_size(data[pos + 8: pos + length])
        pos += length
    assert found == {kind: (size, size) for kind, size in ICNS_SIZES.items()}


def test_committed_icons_match_the_svg_source():
    result = subprocess.run([sys.executable, str(ROOT / "packaging" / "make_icons.py"), "--check"],
                            check=False, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"regenerate with python packaging/make_icons.py:\n{result.stderr}"
