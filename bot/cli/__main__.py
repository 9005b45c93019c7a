"""``python -m bot.cli``: the ``jitbot`` command."""

import sys

from bot.cli import main

sys.exit(main())
