"""PyInstaller runtime hook: programs the frozen app starts see the system's libraries.

On Linux the bootloader prepends the bundle's folder to ``LD_LIBRARY_PATH`` (keeping the
user's value in ``LD_LIBRARY_PATH_ORIG``) so that the app finds its own libraries. Every
child process would inherit that, and the shells, ``git`` and agent CLIs run in a local
session would load the bundle's copies of libz, libssl… instead of their own, which breaks
them on other distributions. The dynamic loader reads the variable once at start-up, so
restoring it here changes nothing for the app itself and everything for its children.
"""

import os
import sys

if sys.platform.startswith("linux"):
    original = os.environ.pop("LD_LIBRARY_PATH_ORIG", None)
    if original is not None:
        os.environ["LD_LIBRARY_PATH"] = original
    else:
        os.environ.pop("LD_LIBRARY_PATH", None)
