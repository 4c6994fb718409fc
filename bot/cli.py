"""The glossary-bot command: run the bot, and the content tools that need no Discord.

Content authors use ``check``, ``import``, ``show`` and ``search`` from a terminal or their
own CI, each on one glossary (``--glossary NAME``, default the default one); ``glossaries``
lists them; ``run`` starts the bot. Every failure is a one-line message and an exit status,
never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from bot.config import Config, load_config
from bot.errors import ConfigError, InvalidContent, TermNotFound
from bot.glossaries import GlossarySpec
from bot.models import Problem
from bot.search import mark_hits
from bot.server_glossaries import ServerGlossary
from bot.storage.snapshot import StoredFile
from bot.store import Store
from bot.text import render_text

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


DESCRIPTION = ("glossary-bot: run the Discord bot, the content tools that need no "
               "Discord (check, import, show, search, glossaries, sandbox), and the tools to "
               "operate it (doctor, backup, restore, health).")


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

    def on_glossary(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
        parser.add_argument("--glossary", metavar="NAME", help="which glossary (default: the "
                            "default one; glossary-bot glossaries lists them)")
        return parser

    command("run", "start the Discord bot (the default)")
    check = on_glossary(command("check", "validate every term file and list all problems"))
    check.add_argument("directory", nargs="?", help="content directory (default: content_dir "
                       "from the config)")
    check.add_argument("--strict", action="store_true",
                       help="also warn about anything that makes the glossary read unevenly "
                       "(missing sections, orphans, repeats, cut cards); warnings fail")
    _add_import(lambda name, summary: on_glossary(command(name, summary)))
    show = on_glossary(command("show", "print a term's card as it will read"))
    show.add_argument("term", help="slug, title or alias")
    search = on_glossary(command("search", "full-text search over every section, ranked"))
    search.add_argument("query", help="words to look for")
    search.add_argument("--limit", type=int, default=10, metavar="N",
                        help="how many results to print (default: 10)")
    glossaries = command("glossaries", "list the glossaries (configured, and those servers "
                         "made with /glossary create); export or remove a server's own")
    glossaries.add_argument("action", nargs="?", choices=("list", "export", "remove"),
                            default="list", help="list (the default), export NAME or "
                            "remove NAME (a server's own glossary)")
    glossaries.add_argument("name", nargs="?", metavar="NAME", help="the glossary to export "
                            "or remove")
    glossaries.add_argument("--format", choices=("yaml", "csv", "json", "md", "apkg"),
                            default="yaml", help="for export (default: yaml, term files)")
    glossaries.add_argument("--out", type=Path, metavar="PATH", help="for export: file or "
                            "existing directory to write (default: NAME.<format> here)")
    glossaries.add_argument("--yes", "-y", action="store_true",
                            help="for remove: remove without asking")
    sandbox = command("sandbox", "try the bot in a browser, no Discord needed")
    sandbox.add_argument("--port", type=int, default=8765, help="page port on 127.0.0.1 "
                         "(default: 8765; 0 picks a free one)")
    sandbox.add_argument("--watch", action="store_true",
                         help="reload the term files whenever one is saved")
    _add_export(lambda name, summary: on_glossary(command(name, summary)))
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


def _add_import(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    importer = command("import", "bring terms in from spreadsheets (CSV), Quizlet exports, "
                       "JSON or page exports: shows what would change, writes on confirm")
    importer.add_argument("files", nargs="+", type=Path, metavar="FILE",
                          help=".csv (header row of sections), .json, .tsv or .txt (Quizlet's "
                          "term TAB definition, or a glossary page export)")
    importer.add_argument("--out", type=Path, metavar="DIR",
                          help="content directory to import into (default: content_dir)")
    importer.add_argument("--yes", "-y", action="store_true",
                          help="write the changes without asking")
    importer.add_argument("--force", action="store_true", dest="yes",
                          help="the same as --yes (kept for older scripts)")


def _add_export(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    from bot.export import FORMATS

    export = command("export", "write the glossary out as term files, a spreadsheet, JSON, "
                     "a Markdown page or an Anki deck")
    export.add_argument("--format", choices=FORMATS, default="yaml",
                        help="yaml (term files), csv, json, md or apkg (default: yaml)")
    export.add_argument("--out", type=Path, metavar="PATH",
                        help="file to write (default: glossary.<format> here); for yaml an "
                        "existing directory gets the term files, anything else a zip of them")
    source = export.add_mutually_exclusive_group()
    source.add_argument("--from", dest="source", type=Path, metavar="DIR",
                        help="content directory to read (default: content_dir from the config)")
    source.add_argument("--database", type=Path, metavar="PATH",
                        help="export the glossary stored in this bot database instead")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "doctor":  # reports a bad config as one of its lines
        from bot.doctor import run_doctor

        return run_doctor(getattr(args, "config", None))
    try:
        config = load_config(getattr(args, "config", None))
        spec = _glossary(config, getattr(args, "glossary", None))
        match args.command:
            case "check":
                directory = Path(args.directory) if args.directory else _files_of(spec)
                return _check(directory, spec.course_name if args.strict else None)
            case "import":
                return _import(args.files, args.out or _files_of(spec), args.yes,
                               _stored_for(config, spec, args.out))
            case "show":
                return asyncio.run(_show(config, spec, args.term))
            case "search":
                return asyncio.run(_search(config, spec, args.query, args.limit))
            case "glossaries":
                return _glossaries_command(config, args)
            case "export":
                return asyncio.run(_export(config, spec, args))
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


def _glossary(config: Config, name: str | None) -> GlossarySpec:
    glossaries = config.glossary_map
    if name is None:
        return glossaries.default
    spec = glossaries.named(name)
    if spec is None:
        known = ", ".join(s.name for s in glossaries.specs)
        raise ConfigError(f"no glossary named {name!r} in the config (there are: {known})")
    return spec


def _files_of(spec: GlossarySpec) -> Path:
    if spec.content_dir is None:
        raise ConfigError(f"the glossary {spec.name!r} lives in the database alone; it has no "
                          "term files (give a directory to check, or --out to import)")
    return spec.content_dir


async def _glossaries(config: Config) -> int:
    """Each glossary: terms (as the bot's database holds them, or as files when there is
    no database yet), where they come from, and the servers that use it."""
    from bot.directory import display_path, scan_directory
    from bot.storage.glossary import term_counts

    counts: dict[str, int] = {}
    if config.database.is_file():
        async with await Store.open(config.database) as store:
            counts = await term_counts(store.db)
    glossaries = config.glossary_map
    for spec in glossaries.specs:
        if spec.name in counts:
            terms = f"{counts[spec.name]} term(s)"
        elif spec.content_dir is not None and spec.content_dir.is_dir():
            terms = f"{len(scan_directory(spec.content_dir).files)} term file(s), not loaded"
        else:
            terms = "0 terms"
        source = display_path(spec.content_dir) if spec.content_dir else "database only"
        if spec.name == glossaries.default_name:
            servers = "every server not listed elsewhere" + (
                f" (and {', '.join(map(str, spec.servers))})" if spec.servers else "")
        else:
            servers = ", ".join(map(str, spec.servers)) or "no server"
        print(f"{spec.name}{' (default)' if spec.name == glossaries.default_name else ''}: "
              f"{terms}; {source}; course {spec.course_name!r}; servers: {servers}")
    for made in await _server_glossaries(config):
        origin = f"a copy of {made.copied_from}" if made.copied_from else "started empty"
        when = time.strftime("%Y-%m-%d", time.gmtime(made.created_at))
        print(f"{made.name}: {made.terms} term(s); database only, made in server "
              f"{made.guild_id} by {made.created_by_name or made.created_by} on {when} "
              f"({origin}); course {made.course_name!r}; servers: {made.guild_id}")
    return EXIT_OK


async def _server_glossaries(config: Config) -> list[ServerGlossary]:
    if config.database_url is None and not config.database.is_file():
        return []
    async with await Store.open_for(config) as store:  # PostgreSQL's, with database_url
        return await store.server_glossaries.all()


def _glossaries_command(config: Config, args: argparse.Namespace) -> int:
    """``glossaries [list]``, ``glossaries export NAME`` and ``glossaries remove NAME``."""
    if args.action == "list":
        return asyncio.run(_glossaries(config))
    if not args.name:
        print(f"error: glossaries {args.action} needs the glossary's NAME (glossary-bot "
              "glossaries list shows them)", file=sys.stderr)
        return EXIT_USAGE
    if config.database_url is None and not config.database.is_file():
        print(f"error: {config.database}: no database yet, so no server made a glossary",
              file=sys.stderr)
        return EXIT_USAGE
    if args.action == "export":
        return asyncio.run(_export_server_glossary(config, args))
    return asyncio.run(_remove_server_glossary(config, args.name, args.yes))


async def _export_server_glossary(config: Config, args: argparse.Namespace) -> int:
    async with await Store.open_for(config) as store:
        made = await store.server_glossaries.named(args.name)
        if made is None:
            print(f"error: no server glossary named {args.name!r} (glossary-bot glossaries "
                  "list shows them)", file=sys.stderr)
            return EXIT_USAGE
        if store.pg is not None:  # what is published: the terminal's index follows nothing
            terms = await store.server_glossaries.published_terms(made.name)
        else:
            await store.use_glossaries([made.name], config.glossary_map.default_name)
            terms = await store.glossary_named(made.name).all_terms()
    from bot.export import file_name

    out = args.out or Path(file_name(args.format, made.name))
    return _write_export(terms, args.format, out, made.course_name)


async def _remove_server_glossary(config: Config, name: str, yes: bool) -> int:
    async with await Store.open_for(config) as store:
        made = await store.server_glossaries.named(name)
        if made is None:
            print(f"error: no server glossary named {name!r} (glossary-bot glossaries list "
                  "shows them)", file=sys.stderr)
            return EXIT_USAGE
        question = (f"Remove glossary {name!r} ({made.terms} term(s)) that server "
                    f"{made.guild_id} made? Export it first if it may be wanted. [y/N] ")
        if not yes and not _confirmed(question):
            print("Nothing was removed (run with --yes to remove without asking).")
            return EXIT_OK
        await store.server_glossaries.remove(name)
        shared = store.pg is not None
    when = ("at once: running bots hear of it through PostgreSQL" if shared else
            "when the bot next starts (restart it now if it is running)")
    print(f"Removed glossary {name!r} and its {made.terms} term(s). Server {made.guild_id} "
          f"goes back to the glossary the config gives it {when}.")
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


LISTED_CHANGES = 200  # more than a screenful of "added" lines helps nobody


def _stored_for(config: Config, spec: GlossarySpec, out: Path | None
                ) -> Mapping[str, StoredFile] | None:
    """What the bot's database stored from the glossary's files at its last load (read
    only), so the preview parses only files saved since: 10,000 files took ~5 s to parse
    again. None when importing elsewhere than the glossary's own directory."""
    from bot.storage.snapshot import read_stored_terms

    directory = spec.content_dir
    if directory is None or (out is not None and out.resolve() != directory.resolve()):
        return None
    return read_stored_terms(config.database, spec.name) or None


def _import(files: Sequence[Path], out: Path, yes: bool,
            loaded: Mapping[str, StoredFile] | None = None) -> int:
    """Preview, then write on confirm (``--yes`` or an answer at the prompt); nothing is
    written when any row has a problem. ``loaded``: the bot's last load of ``out``."""
    from bot.bulk_import import apply_plan, plan_import

    plan = asyncio.run(plan_import(files, out, loaded))
    for problem in plan.problems:
        print(problem, file=sys.stderr)
    for warning in plan.warnings[:LISTED_CHANGES]:
        print(f"{warning} (warning)")
    writes = plan.writes
    for change in writes[:LISTED_CHANGES]:
        print(change)
    if len(writes) > LISTED_CHANGES:
        print(f"... and {len(writes) - LISTED_CHANGES} more")
    print(plan.summary())
    if not plan.ok:
        print("Nothing was written: fix the rows above and run the import again.",
              file=sys.stderr)
        return EXIT_PROBLEMS
    if not writes:
        print("Nothing to change.")
        return EXIT_OK
    if not yes and not _confirmed(f"Write {len(writes)} term file(s) to {out}? [y/N] "):
        print("Nothing was written (run with --yes to write without asking).")
        return EXIT_OK
    try:
        written = apply_plan(plan)
    except OSError as exc:
        print(f"error: {out}: cannot be written: {exc.strerror or exc}; nothing was written",
              file=sys.stderr)
        return EXIT_PROBLEMS
    print(f"{written} term file(s) written to {out}; the next reload serves them.")
    return EXIT_OK


def _confirmed(question: str) -> bool:
    if not sys.stdin.isatty():
        return False
    try:
        return input(question).strip().casefold() in ("y", "yes")
    except EOFError:
        return False


@contextlib.asynccontextmanager
async def _loaded_store(config: Config, spec: GlossarySpec) -> AsyncIterator[Store]:
    """A throwaway database loaded from the glossary's content directory.

    The terminal tools read the files, not the bot's database, so they show what the
    next reload will serve and never touch a running bot's state. A glossary that lives
    in the database alone is read from the bot's database.
    """
    if spec.content_dir is None:
        async with await Store.open(config.database) as store:
            await store.use_glossaries([spec.name], spec.name)
            yield store
        return
    with tempfile.TemporaryDirectory(prefix="glossary-") as scratch:
        async with await Store.open(Path(scratch) / "cli.sqlite3") as store:
            await store.reloads.reload(spec.content_dir)
            yield store


async def _show(config: Config, spec: GlossarySpec, query: str) -> int:
    try:
        async with _loaded_store(config, spec) as store:
            card = await store.glossary.card(query)
    except InvalidContent as exc:
        return _report_invalid(exc)
    except TermNotFound as exc:
        hint = ", ".join(s.title for s in exc.suggestions)
        print(f"No term matches {query!r}." + (f" Did you mean: {hint}?" if hint else ""),
              file=sys.stderr)
        return EXIT_PROBLEMS
    print(render_text(card.term, spec.course_name, card.related_titles))
    return EXIT_OK


async def _search(config: Config, spec: GlossarySpec, query: str, limit: int) -> int:
    try:
        async with _loaded_store(config, spec) as store:
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


async def _export(config: Config, spec: GlossarySpec, args: argparse.Namespace) -> int:
    """Read the terms (validated, as a reload would) and write them in one format."""
    from bot.export import file_name

    try:
        if args.database is not None:
            if not args.database.is_file():
                print(f"error: {args.database}: no such database", file=sys.stderr)
                return EXIT_USAGE
            async with await Store.open(args.database) as store:
                terms = await store.glossary.all_terms()
        else:
            if args.source is not None:
                spec = dataclasses.replace(spec, content_dir=args.source)
            async with _loaded_store(config, spec) as store:
                terms = await store.glossary.all_terms()
    except InvalidContent as exc:
        return _report_invalid(exc)
    out: Path = args.out or Path(file_name(args.format))
    return _write_export(terms, args.format, out, spec.course_name)


def _write_export(terms: Sequence[Any], fmt: str, out: Path, course_name: str) -> int:
    """Term files into an existing directory, else one file in the format."""
    from bot.export import export, term_files
    from bot.files import replace_text

    try:
        if fmt == "yaml" and out.is_dir():
            for name, text in term_files(terms):
                replace_text(out / name, text)
        else:
            data = export(terms, fmt, course_name)
            out.write_bytes(data)
    except OSError as exc:
        print(f"error: {out}: cannot be written: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    print(f"{len(terms)} term(s) written to {out}")
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
