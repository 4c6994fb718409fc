"""A stand-in parse worker for ``bench.cold_reload``'s floors: ``python -m bench.floor_worker``.

It speaks ``bot.parse_worker``'s protocol, but instead of validating a file and building its
rows it answers with the rows ``bot.directory.parse_files`` built earlier (a pickle named
by ``FLOOR_RECORDS``), after doing only the part of the work the floor keeps
(``FLOOR_MODE``):

- ``compose``: read the file and compose its YAML with libyaml, as the real worker does
  first. The reload then costs what any design costs that keeps PyYAML's nodes (which
  every problem's line comes from) and today's tables, with our validation and row
  building free.
- ``read``: only read the file. The reload then costs the writer, the checks, the commit
  and the plumbing between processes, with no parsing at all.

The pickle holds each file's rows pickled on their own, so starting costs a copy of bytes
(the whole glossary's rows, unpickled at start, took 0.3 s a worker) and each chunk's rows
are unpickled as they are answered, the way the real worker pickles them: timed with the
rest, so the floors read a little high, never low.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import sys
from pathlib import Path

import yaml

from bot.parse_worker import HEADER_BYTES, frame

RECORDS_ENV = "FLOOR_RECORDS"
MODE_ENV = "FLOOR_MODE"
MODES = ("compose", "read")


def serve() -> None:
    with contextlib.suppress(OSError):
        os.nice(10)  # as the real worker does
    mode = os.environ[MODE_ENV]
    if mode not in MODES:
        raise SystemExit(f"{MODE_ENV} must be one of {', '.join(MODES)}")
    with open(os.environ[RECORDS_ENV], "rb") as file:
        records = pickle.load(file)
    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr
    while header := requests.read(HEADER_BYTES):
        directory, _, chunk = pickle.loads(requests.read(int.from_bytes(header, "big")))
        for name, _, _ in chunk:
            raw = Path(directory, name).read_bytes()
            if mode == "compose":
                yaml.compose(raw.decode("utf-8-sig"), Loader=yaml.CSafeLoader)
        answers.write(frame(("ok", [pickle.loads(records[name]) for name, _, _ in chunk])))
        answers.flush()


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError, KeyboardInterrupt):
        serve()
