"""``python -m ranvis`` = the ``ranvis`` command."""
import sys

from ranvis.cli import main

sys.exit(main())
