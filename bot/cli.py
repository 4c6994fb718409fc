"""The ``glossary-bot`` command: run the bot, and the content tools that need no Discord.

Content authors use ``check``, ``import``, ``show`` and ``search`` from a terminal or their
own CI; ``run`` starts the bot. Every failure is a one-line message and an exit status,
never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sqlite3
import sys
import tempfile
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from bot.config import Config, load_config
from bot.errors import ConfigError, InvalidContent, TermNotFound
from bot.store import Store
from bot.text import render_text

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="glossary-bot", description=__doc__.splitlines()[0])
    parser.add_argument("--config", help="path to config.toml (default: $GLOSSARY_CONFIG "
                        "or ./config.toml)")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("run", help="start the Discord bot (the default)")
    check = commands.add_parser("check", help="validate every term file and list all problems")
    check.add_argument("directory", nargs="?", help="content directory (default: from config)")
    importer = commands.add_parser("import", help="turn glossary page exports into term files")
    importer.add_argument("pages", nargs="+", type=Path, help="page export .txt files")
    importer.add_argument("--out", type=Path, help="where to write (default: content_dir)")
    importer.add_argument("--force", action="store_true", help="overwrite existing files")
    show = commands.add_parser("show", help="print a term's card as it will read")
    show.add_argument("term", help="slug, title or alias")
    search = commands.add_parser("search", help="full-text search, ranked")
    search.add_argument("query")
    search.add_argument("--limit", type=int, default=10)
    sandbox = commands.add_parser("sandbox", help="try the bot in a browser, no Discord needed")
    sandbox.add_argument("--port", type=int, default=8765, help="page port on 127.0.0.1 "
                         "(default: 8765; 0 picks a free one)")
    sandbox.add_argument("--watch", action="store_true",
                         help="reload the term files whenever one is saved")
    backup = commands.add_parser("backup", help="copy the database now, safely while the "
                                 "bot runs (SQLite's online backup)")
    backup.add_argument("path", type=Path, help="backup file, or a directory for a dated name")
    restore = commands.add_parser("restore", help="replace the database with a backup "
                                  "(refused while the bot runs; the old one is kept beside it)")
    restore.add_argument("path", type=Path, help="a file made by glossary-bot backup")
    commands.add_parser("doctor", help="check config, content, database, token, commands "
                        "and channel permissions; each failing line says how to fix it")
    commands.add_parser("health", help="exit 0 if the running bot is healthy (for a "
                        "container's HEALTHCHECK): asks health_port, else heartbeat_file")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "doctor":  # reports a bad config as one of its lines
        from bot.doctor import run_doctor

        return run_doctor(args.config)
    try:
        config = load_config(args.config)
        match args.command:
            case "check":
                return _check(Path(args.directory) if args.directory else config.content_dir)
            case "import":
                return _import(args.pages, args.out or config.content_dir, args.force)
            case "show":
                return asyncio.run(_show(config, args.term))
            case "search":
                return asyncio.run(_search(config, args.query, args.limit))
            case "backup" | "restore":
                return _backup(config, args.command, args.path)
            case "health":
                return _health(config)
            case "sandbox":
                from bot.sandbox import run_sandbox

                return run_sandbox(config, port=args.port, watch=args.watch)
            case _:
                from bot.client import run_bot

                return run_bot(config)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_OK


def _check(directory: Path) -> int:
    """Validate exactly as a reload would (the same code, on a scratch database), so a
    clean ``check`` in an author's CI means ``/glossary reload`` will accept the files."""
    return asyncio.run(_check_async(directory))


async def _check_async(directory: Path) -> int:
    with tempfile.TemporaryDirectory(prefix="glossary-check-") as scratch:
        async with await Store.open(Path(scratch) / "check.sqlite3") as store:
            try:
                diff = await store.reload(directory)
            except InvalidContent as exc:
                problems, valid = exc.problems, exc.valid_terms
            else:
                problems, valid = diff.warnings, diff.term_count
    for problem in problems:
        print(problem)
    errors = sum(not p.is_warning for p in problems)
    warnings = len(problems) - errors
    summary = f"{valid} valid term(s), {errors} error(s), {warnings} warning(s)"
    print(summary, file=sys.stderr if errors else sys.stdout)
    return EXIT_PROBLEMS if errors else EXIT_OK


def _import(pages: Sequence[Path], out: Path, force: bool) -> int:
    from bot.importer import import_pages

    outcomes = import_pages(pages, out, force=force)
    for outcome in outcomes:
        print(outcome)
    return EXIT_PROBLEMS if any(o.failed for o in outcomes) else EXIT_OK


@contextlib.asynccontextmanager
async def _loaded_store(config: Config) -> AsyncIterator[Store]:
    """A throwaway database loaded from the content directory.

    The terminal tools read the files, not the bot's database, so they show what the
    next reload will serve and never touch a running bot's state.
    """
    with tempfile.TemporaryDirectory(prefix="glossary-") as scratch:
        async with await Store.open(Path(scratch) / "cli.sqlite3") as store:
            await store.reload(config.content_dir)
            yield store


async def _show(config: Config, query: str) -> int:
    try:
        async with _loaded_store(config) as store:
            card = await store.card(query)
    except InvalidContent as exc:
        return _report_invalid(exc)
    except TermNotFound as exc:
        hint = ", ".join(s.title for s in exc.suggestions)
        print(f"No term matches {query!r}." + (f" Did you mean: {hint}?" if hint else ""),
              file=sys.stderr)
        return EXIT_PROBLEMS
    print(render_text(card.term, config.course_name, card.related_titles))
    return EXIT_OK


async def _search(config: Config, query: str, limit: int) -> int:
    try:
        async with _loaded_store(config) as store:
            page = await store.search(query, limit=limit)
    except InvalidContent as exc:
        return _report_invalid(exc)
    if not page.hits:
        print(f"Nothing found for {query!r}.", file=sys.stderr)
        return EXIT_PROBLEMS
    for number, hit in enumerate(page.hits, start=1):
        print(f"{number}. {hit.title} ({hit.slug})\n   {hit.snippet}")
    print(f"{page.total} result(s)")
    return EXIT_OK


def _backup(config: Config, command: str, path: Path) -> int:
    from bot.backup import BackupError, make_backup, restore

    try:
        if command == "backup":
            print(f"Backed up {config.database} to {make_backup(config.database, path)}")
        else:
            kept = restore(path, config.database)
            print(f"Restored {config.database} from {path}"
                  + (f"; the previous database is kept as {kept}" if kept else ""))
    except (BackupError, OSError, sqlite3.Error) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    return EXIT_OK


def _health(config: Config) -> int:
    from bot.health import probe

    healthy, detail = probe(config)
    print(detail, file=sys.stdout if healthy else sys.stderr)
    return EXIT_OK if healthy else EXIT_PROBLEMS


def _report_invalid(exc: InvalidContent) -> int:
    for problem in exc.problems:
        print(problem, file=sys.stderr)
    print("The term files have errors; fix them first (glossary-bot check).", file=sys.stderr)
    return EXIT_PROBLEMS


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
