"""``python -m sesame_desktop`` and the ``sesame-desktop`` script."""

import sys

from sesame_desktop.app import main

if __name__ == "__main__":
    sys.exit(main())
