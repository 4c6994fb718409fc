"""A reload's parse worker: ``python -m bot.parse_worker``, started by ``bot.loading``.

It reads pickled chunks of files from stdin, answers each with the parsed records on
stdout, and exits when stdin closes, which happens when the bot does, however it ends.
It imports only what parsing needs, so it starts in a tenth of a second.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import sys

HEADER_BYTES = 8


def frame(value: object) -> bytes:
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return len(payload).to_bytes(HEADER_BYTES, "big") + payload


def serve() -> None:
    """Parse each chunk read from stdin, answer on stdout, until EOF."""
    from bot.directory import parse_files

    # Below the bot's priority: when a student's lookup and a chunk both want a core, the
    # lookup wins (at equal priority, two workers on two cores left the event loop waiting
    # 30-60 ms for a turn during a 100,000-term reload).
    with contextlib.suppress(OSError):
        os.nice(10)
    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing else may write to the answer stream
    while header := requests.read(HEADER_BYTES):
        directory, shown, chunk = pickle.loads(requests.read(int.from_bytes(header, "big")))
        try:
            answer = frame(("ok", parse_files(directory, shown, chunk)))
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which falls back
            answer = frame(("error", f"{type(exc).__name__}: {exc}"))
        answers.write(answer)
        answers.flush()


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError, KeyboardInterrupt):
        serve()
