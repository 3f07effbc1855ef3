"""``python -m adcompiler``: run the command line."""

import sys

from adcompiler.cli import main

if __name__ == "__main__":
    sys.exit(main())
