"""``python -m bot`` runs the bot (same as ``glossary-bot run``).

Guarded, because the reload's worker processes are started with "spawn", which imports
the parent's main module again: unguarded, each worker would start another bot.
"""

import sys

from bot.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["run"]))
