"""``python -m hotpath``: the same as the ``hotpath`` command."""
import sys

from hotpath.cli import main

sys.exit(main())
