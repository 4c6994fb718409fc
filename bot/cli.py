"""The glossary-bot command: run the bot, and the content tools that need no Discord.

Content authors use ``check``, ``import``, ``show`` and ``search`` from a terminal or their
own CI; ``run`` starts the bot. Every failure is a one-line message and an exit status,
never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sqlite3
import sys
import tempfile
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from bot.config import Config, load_config
from bot.errors import ConfigError, InvalidContent, TermNotFound
from bot.models import Problem
from bot.search import mark_hits
from bot.store import Store
from bot.text import render_text

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


DESCRIPTION = ("glossary-bot: run the Discord bot, the content tools that need no "
               "Discord (check, import, show, search, sandbox), and the tools to operate it "
               "(doctor, backup, restore, health).")


def _parser() -> argparse.ArgumentParser:
    # --config is accepted before or after the subcommand: ``glossary-bot check --config
    # x.toml`` is what people type. SUPPRESS keeps a later default from erasing an earlier value.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", default=argparse.SUPPRESS, metavar="PATH",
                        help="path to config.toml (default: $GLOSSARY_CONFIG or ./config.toml)")
    parser = argparse.ArgumentParser(prog="glossary-bot", description=DESCRIPTION,
                                     parents=[common])
    commands = parser.add_subparsers(dest="command", metavar="COMMAND",
                                     help="what to do (default: run)")

    def command(name: str, summary: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=summary, description=summary.capitalize() + ".",
                                   parents=[common])

    command("run", "start the Discord bot (the default)")
    check = command("check", "validate every term file and list all problems")
    check.add_argument("directory", nargs="?", help="content directory (default: content_dir "
                       "from the config)")
    check.add_argument("--strict", action="store_true",
                       help="also warn about anything that makes the glossary read unevenly "
                       "(missing sections, orphans, repeats, cut cards); warnings fail")
    importer = command("import", "turn glossary page exports into term files")
    importer.add_argument("pages", nargs="+", type=Path, help="page export .txt files")
    importer.add_argument("--out", type=Path, metavar="DIR",
                          help="where to write (default: content_dir from the config)")
    importer.add_argument("--force", action="store_true",
                          help="replace files that exist already (keeping their permissions)")
    show = command("show", "print a term's card as it will read")
    show.add_argument("term", help="slug, title or alias")
    search = command("search", "full-text search over every section, ranked")
    search.add_argument("query", help="words to look for")
    search.add_argument("--limit", type=int, default=10, metavar="N",
                        help="how many results to print (default: 10)")
    sandbox = command("sandbox", "try the bot in a browser, no Discord needed")
    sandbox.add_argument("--port", type=int, default=8765, help="page port on 127.0.0.1 "
                         "(default: 8765; 0 picks a free one)")
    sandbox.add_argument("--watch", action="store_true",
                         help="reload the term files whenever one is saved")
    backup = command("backup", "copy the database now, safely while the bot runs "
                     "(SQLite's online backup)")
    backup.add_argument("path", type=Path, help="backup file, or a directory for a dated name")
    restore = command("restore", "replace the database with a backup (refused while the "
                      "bot runs; the replaced one is kept beside it)")
    restore.add_argument("path", type=Path, help="a file made by glossary-bot backup")
    command("doctor", "check config, content, database, token, commands and channel "
            "permissions; each failing line says how to fix it")
    command("health", "exit 0 if the running bot is healthy (for a container's "
            "HEALTHCHECK): asks health_port, else reads heartbeat_file")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "doctor":  # reports a bad config as one of its lines
        from bot.doctor import run_doctor

        return run_doctor(getattr(args, "config", None))
    try:
        config = load_config(getattr(args, "config", None))
        match args.command:
            case "check":
                directory = Path(args.directory) if args.directory else config.content_dir
                return _check(directory, config.course_name if args.strict else None)
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


def _check(directory: Path, strict_course: str | None = None) -> int:
    """Validate exactly as a reload would (the same parsing and checks, with no database),
    so a clean ``check`` in an author's CI means ``/glossary reload`` will accept the files.

    With ``strict_course`` (``--strict``) the glossary's consistency is checked too, and
    its warnings fail the check: authors who ask for it want a clean report.
    """
    from bot.reloading import check_directory

    problems, valid = asyncio.run(check_directory(directory))
    if strict_course is not None and not any(not p.is_warning for p in problems):
        problems = [*problems, *_strict_findings(directory, strict_course)]
    for problem in problems:
        print(problem)
    errors = sum(not p.is_warning for p in problems)
    warnings = len(problems) - errors
    summary = f"{valid} valid term(s), {errors} error(s), {warnings} warning(s)"
    print(summary, file=sys.stderr if errors else sys.stdout)
    return EXIT_PROBLEMS if errors or (strict_course is not None and warnings) else EXIT_OK


def _strict_findings(directory: Path, course_name: str) -> list[Problem]:
    from bot.content import read_term_file
    from bot.directory import display_path, scan_directory
    from bot.lint import lint

    shown = display_path(directory)
    results = [read_term_file(directory / name, os.path.join(shown, name))
               for name, _mtime, _size in scan_directory(directory).files]
    return lint(results, course_name)


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
            await store.reloads.reload(config.content_dir)
            yield store


async def _show(config: Config, query: str) -> int:
    try:
        async with _loaded_store(config) as store:
            card = await store.glossary.card(query)
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
            page = await store.glossary.search(query, limit=limit)
    except InvalidContent as exc:
        return _report_invalid(exc)
    if not page.hits:
        print(f"Nothing found for {query!r}.", file=sys.stderr)
        return EXIT_PROBLEMS
    # Plain text for pipes and files; matched words in bold only on a terminal.
    bold = ("\x1b[1m", "\x1b[0m") if sys.stdout.isatty() else ("", "")
    for number, hit in enumerate(page.hits, start=1):
        print(f"{number}. {hit.title} ({hit.slug})\n   {mark_hits(hit.snippet, *bold)}")
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
