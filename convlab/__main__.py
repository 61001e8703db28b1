"""``python -m convlab`` is the same as the ``convlab`` command."""

import sys

from convlab.cli import main

if __name__ == "__main__":
    sys.exit(main())
