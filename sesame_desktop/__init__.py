"""Sesame Desktop: run coding agents in cloud sandboxes with clicks."""

from importlib import metadata as _metadata

APP_NAME = "Sesame Desktop"
APP_ID = "sesame-desktop"

try:
    __version__ = _metadata.version("sesame-desktop")
except _metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.1.0"
