"""Each edit from Discord as a git commit, when the content directory is a git work tree.

With ``commit_edits = true`` (globally, or in a ``[glossaries.NAME]`` table), a saved
add, edit, remove, restore or applied suggestion becomes a commit of that one file (an
import: one commit of every file it wrote), authored by
the editor's Discord name (``Name <id@discord>``), so ``git log`` and ``git blame`` say
who wrote what. Only that file is committed (``git commit --only``): whatever else the
teacher has staged or changed by hand stays as it was.

Called through ``asyncio.to_thread``: git runs as a subprocess and must never stall the
event loop. A failure raises ``CommitFailed``; the edit itself is already saved, so the
caller logs it and tells the editor.
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

from bot.errors import CommitFailed

log = logging.getLogger(__name__)

GIT_TIMEOUT = 30.0  # seconds: a hung hook or lock must not keep an editor waiting forever
BOT_NAME, BOT_EMAIL = "glossary-bot", "glossary-bot@localhost"


def wants_commits(spec_setting: bool | None, default: bool) -> bool:
    """A glossary's own ``commit_edits``, else the config's."""
    return default if spec_setting is None else spec_setting


def _git(directory: Path, *args: str, env: dict[str, str] | None = None
         ) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["git", "-C", str(directory), *args], capture_output=True, text=True,
            timeout=GIT_TIMEOUT, env=env, check=False, stdin=subprocess.DEVNULL)
    except FileNotFoundError as exc:
        raise CommitFailed("git is not installed on the bot's machine") from exc
    except subprocess.TimeoutExpired as exc:
        raise CommitFailed(f"git did not finish within {GIT_TIMEOUT:.0f} s") from exc


def is_work_tree(directory: Path) -> bool:
    """Whether ``directory`` is inside a git work tree (False when git is missing)."""
    try:
        done = _git(directory, "rev-parse", "--is-inside-work-tree")
    except CommitFailed:
        return False
    return done.returncode == 0 and done.stdout.strip() == "true"


def author(name: str, user_id: int) -> str:
    """``Name <id@discord>``; the characters git's ident format cannot hold are dropped."""
    clean = re.sub(r"[<>\n\r\0]", "", name).strip() or str(user_id)
    return f"{clean} <{user_id}@discord>"


def commit_file(directory: Path, file: str | Sequence[str], message: str, author_name: str,
                author_id: int) -> str:
    """Commit the one file (added, changed or removed) as the editor, or several as one
    commit (an import, every file it wrote); returns the new commit's short hash. Raises
    CommitFailed with git's own words."""
    files = [file] if isinstance(file, str) else list(file)
    env = dict(os.environ)
    # The committer is the bot: a machine that never ran `git config user.email` still
    # commits, and the repository's own identity wins when it has one.
    if not _git(directory, "config", "user.email").stdout.strip():
        env.setdefault("GIT_COMMITTER_NAME", BOT_NAME)
        env.setdefault("GIT_COMMITTER_EMAIL", BOT_EMAIL)
    added = _git(directory, "add", "--all", "--", *files, env=env)
    if added.returncode != 0:
        raise CommitFailed(_said(added))
    done = _git(directory, "commit", "--only", "--quiet", "-m", message,
                "--author", author(author_name, author_id), "--", *files, env=env)
    if done.returncode != 0:
        raise CommitFailed(_said(done))
    head = _git(directory, "rev-parse", "--short", "HEAD", env=env)
    return head.stdout.strip()


def _said(done: subprocess.CompletedProcess[str]) -> str:
    text = (done.stderr or done.stdout).strip().splitlines()
    return text[-1][:300] if text else f"git exited with status {done.returncode}"


def commit_quietly(directory: Path, file: str | Sequence[str], message: str,
                   author_name: str, author_id: int) -> tuple[str | None, str | None]:
    """(hash, None) when committed, (None, why) when not, with the failure logged: what
    the cog calls in a worker thread after a saved edit."""
    try:
        return commit_file(directory, file, message, author_name, author_id), None
    except CommitFailed as exc:
        log.warning("Edit of %s saved but not committed to git: %s",
                    file if isinstance(file, str) else f"{len(file)} file(s)", exc)
        return None, str(exc)
