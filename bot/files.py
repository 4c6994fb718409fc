"""Replacing a text file atomically without changing who may read it.

``tempfile.mkstemp`` creates files readable by their owner only (0600); renamed over a
term file, that would hide the file from a bot running as another user, or from the web
server that publishes the glossary. The replacement keeps the old file's mode, or gets
the mode a plain ``open()`` would give a new file.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path


def _default_mode() -> int:
    umask = os.umask(0)  # the only way to read the umask is to set it: put it straight back
    os.umask(umask)
    return 0o666 & ~umask


def replace_text(target: Path, text: str) -> None:
    """Write beside the target then rename, so a reader never sees half a file."""
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = _default_mode()
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            os.fchmod(handle.fileno(), mode)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
