"""``python -m ranvis`` = the ``ranvis`` command."""
import sys

from ranvis.cli.commands import main

sys.exit(main())
