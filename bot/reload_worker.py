"""A large reload in a process of its own: ``python -m bot.reload_worker``, started by
``bot.reloading``.

It reads one pickled request (database path, glossary id, content directory) from stdin,
runs the very reload the serving process would (``bot.reloading.reload_here``: scan, plan,
parse in its own parse workers, write, check, commit, one transaction on its own
connection to the same WAL database) and answers with the diff or the problems on stdout.
The serving process's readers see the old glossary until the commit and the new one after,
never a mix; a refused or interrupted reload commits nothing.

If the serving process dies, or gives up and closes the pipe, stdin reaches its end and
the worker exits at once, without committing (SQLite discards an open transaction, even
after SIGKILL); its parse workers then see their own stdin close and exit too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
import sys
import threading
from pathlib import Path

from bot.parse_worker import HEADER_BYTES, frame

GONE_EXIT_CODE = 75  # the serving process went away before the answer


def _exit_when_parent_goes(fd: int) -> None:
    """Block until stdin ends (only one request is ever sent), then exit at once. Reads
    the descriptor itself: a daemon thread blocked inside ``sys.stdin.buffer`` holds the
    buffer's lock, and the interpreter's shutdown then aborts on it."""
    with contextlib.suppress(OSError):
        while os.read(fd, 65536):
            pass
    os._exit(GONE_EXIT_CODE)


def serve() -> None:
    """Answer the one request read from stdin."""
    from bot.reloading import reload_here

    # Below the serving process's priority, as the parse workers are (they inherit this).
    with contextlib.suppress(OSError):
        os.nice(10)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="reload worker %(levelname)s %(name)s: %(message)s")
    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing else may write to the answer stream
    header = requests.read(HEADER_BYTES)
    if len(header) < HEADER_BYTES:
        return
    database, glossary_id, directory = pickle.loads(
        requests.read(int.from_bytes(header, "big")))
    threading.Thread(target=_exit_when_parent_goes, args=(requests.fileno(),), daemon=True).start()
    answer = asyncio.run(reload_here(Path(database), glossary_id, Path(directory)))
    answers.write(frame(answer))
    answers.flush()


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError, KeyboardInterrupt):
        serve()
