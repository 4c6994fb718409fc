"""``python -m bot`` runs the bot (same as ``glossary-bot run``)."""

import sys

from bot.cli import main

sys.exit(main(sys.argv[1:] or ["run"]))
