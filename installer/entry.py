"""Frozen entry point: exactly the `quaythu` console script (`ui.cli:main`).

PyInstaller needs a script file to start from; this one only hands over to the same function
the installed console script runs, so the bundle and `./quaythu` behave the same.
"""

import sys

from ui.cli import main

if __name__ == "__main__":
    sys.exit(main())
