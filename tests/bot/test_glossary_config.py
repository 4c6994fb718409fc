"""Glossaries in the config and in the terminal commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.config import load_config
from bot.content import dump_term
from bot.errors import ConfigError
from bot.glossaries import GlossaryMap, GlossarySpec
from tests.conftest import make_term


def write(directory: Path, **definitions: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for slug, definition in definitions.items():
        (directory / f"{slug}.yaml").write_text(
            dump_term(make_term(slug, definition=definition)), encoding="utf-8")
    return directory


def test_a_config_from_before_glossaries_is_one_default_glossary(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('content_dir = "terms"\ncourse_name = "Web"\n')
    glossaries = load_config(path, environ={}).glossary_map
    (only,) = glossaries.specs
    assert only == GlossarySpec("default", "Web", tmp_path / "terms")
    assert glossaries.for_server(123) is only and glossaries.for_server(None) is only
    assert glossaries.may_edit(only, 1, moderated_server=123)  # its server's moderators
    assert not glossaries.may_edit(only, 1, moderated_server=None)


def test_glossary_tables(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('content_dir = "web"\n'
                    '[glossaries.default]\nowners = [1]\n'
                    '[glossaries.data]\ncourse_name = "Data"\ncontent_dir = "data"\n'
                    'servers = [2, 3]\nowners = [2]\neditors = [99]\n'
                    '[glossaries.made-in-discord]\nsource = "database"\nservers = [4]\n')
    glossaries = load_config(path, environ={}).glossary_map
    default, data, made = glossaries.specs
    assert default.content_dir == tmp_path / "web" and default.owners == (1,)
    assert data == GlossarySpec("data", "Data", tmp_path / "data", (2, 3), (2,), (99,))
    assert made.content_dir is None and made.course_name == "made-in-discord"
    assert glossaries.for_server(3) is data and glossaries.for_server(5) is default
    assert glossaries.may_edit(data, 7, 2) and not glossaries.may_edit(data, 7, 3)
    assert glossaries.may_edit(data, 99, None)  # a listed editor, wherever
    assert not glossaries.may_edit(default, 7, 5)  # owners given: only server 1's
    assert glossaries.may_edit(made, 7, 4)  # no owners given: the servers it lists
    assert "Class B" in glossaries.who_may_edit(data, {2: "Class B"})


@pytest.mark.parametrize(("text", "words"), [
    ('[glossaries.a]\nservers = [1]\n[glossaries.b]\nservers = [1]\n', "a server uses one"),
    ('[glossaries.a]\ncolour = 1\n', "unknown key"),
    ('[glossaries.a]\nservers = ["x"]\n', "lists of ids"),
    ('glossaries = 3\n', "must be tables"),
    ('[glossaries."a b"]\n', "letters, digits"),
])
def test_glossary_mistakes_are_clear(tmp_path, text, words):
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=words):
        load_config(path, environ={})


def test_cli_takes_a_glossary(tmp_path, capsys):
    write(tmp_path / "web", cache="A browser cache keeps pages.", cookie="Remembers you.")
    write(tmp_path / "data", cache="A data cache keeps query results.")
    config = tmp_path / "config.toml"
    config.write_text(f'content_dir = "web"\ndatabase = "{tmp_path / "db.sqlite3"}"\n'
                      '[glossaries.data]\ncourse_name = "Data"\ncontent_dir = "data"\n'
                      'servers = [2]\n')
    assert main(["--config", str(config), "show", "cache"]) == 0
    assert "browser cache" in capsys.readouterr().out
    assert main(["--config", str(config), "show", "cache", "--glossary", "data"]) == 0
    out = capsys.readouterr().out
    assert "data cache" in out and "Example in Data" in out
    assert main(["--config", str(config), "search", "query", "--glossary", "data"]) == 0
    assert "1 result(s)" in capsys.readouterr().out
    assert main(["--config", str(config), "check", "--glossary", "data"]) == 0
    assert "1 valid term(s)" in capsys.readouterr().out
    assert main(["--config", str(config), "show", "cache", "--glossary", "nope"]) == 2
    assert "no glossary named 'nope'" in capsys.readouterr().err
    assert main(["--config", str(config), "glossaries"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0].startswith("default (default): 2 term file(s), not loaded")
    assert listed[1].startswith("data: 1 term file(s)") and listed[1].endswith("servers: 2")


def test_glossaries_lists_what_the_database_holds(tmp_path, capsys):
    import asyncio

    from bot.store import Store

    async def load() -> None:
        async with await Store.open(tmp_path / "db.sqlite3") as store:
            await store.use_glossaries(["data"])
            await store.reloader("data").reload(tmp_path / "data")

    write(tmp_path / "data", cache="A data cache.", pandas="Tables.")
    asyncio.run(load())
    config = tmp_path / "config.toml"
    config.write_text(f'database = "{tmp_path / "db.sqlite3"}"\ncontent_dir = "none"\n'
                      '[glossaries.data]\ncontent_dir = "data"\n')
    assert main(["--config", str(config), "glossaries"]) == 0
    assert "data: 2 term(s)" in capsys.readouterr().out


def test_a_map_without_its_default_is_a_problem():
    from bot.glossaries import problems

    assert problems([GlossarySpec("a", "A", None)], "b")
    assert GlossaryMap((GlossarySpec("b", "B", None),), "b").default.name == "b"
