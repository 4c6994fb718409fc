"""Hostile and broken content: every file of the corpus (``content_corpus.py``) gets a clear
``path:line: field: message`` from ``glossary-bot check`` and from ``/glossary reload``
through the fake Discord, in bounded time and memory, and the glossary being served is
exactly what it was before (same terms, same text).

Memory is measured two ways: in-process with ``tracemalloc`` (peak of Python allocations
while one file is checked or reloaded), and for the real CLI process with the child's
peak RSS from ``os.wait4`` under an address-space limit, so a bomb could not take the
machine down with it. YAML tags must never construct anything: a tag that would create a
marker file is fed to the checker and to the reload, the marker must not exist
afterwards, and the same YAML given to an unsafe loader does create it (so the test can
fail).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import tracemalloc
from pathlib import Path

import pytest
import yaml

from bot.cli import main as cli_main
from tests.conftest import BUNDLED_COUNT, BUNDLED_TERMS, REPO_ROOT
from tests.hardening._support import captured_logs
from tests.hardening.content_corpus import DEEP_NESTING, SYMLINK_LOOP, Case, cases
from tests.support.fake_discord import FakeDiscord
from tests.support.harness import bot_process

CHECK_SECONDS = 2.0  # per file, in-process
RELOAD_SECONDS = 3.0  # per file, through Discord
PEAK_BYTES = 32 * 1024 * 1024  # tracemalloc peak for one file
CHILD_ADDRESS_SPACE = 2 * 1024**3
CHILD_RSS_GROWTH_KB = 64 * 1024


def expected_line(directory: Path, case: Case) -> str:
    line, field, _ = case.expected
    where = f"{directory / case.file}:{line}" if line else f"{directory / case.file}"
    return f"{where}: {field}: "


def find_problem(output: str, directory: Path, case: Case) -> str | None:
    start = expected_line(directory, case)
    words = case.expected[2]
    return next((line for line in output.splitlines()
                 if line.startswith(start) and words in line), None)


def corpus_dir(root: Path, case_list: list[Case]) -> Path:
    directory = root / "terms"
    shutil.copytree(BUNDLED_TERMS, directory)
    scratch = root / "scratch"
    scratch.mkdir()
    for case in case_list:
        case.write(directory, scratch)
    return directory


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "pwned-marker"


def test_the_tag_payload_is_live(marker):
    """Proof the python-tag case can fail: an unsafe loader does run it."""
    yaml.unsafe_load(f'!!python/object/apply:os.system ["touch {marker}"]')
    assert marker.exists()


@pytest.mark.parametrize("name", [c.name for c in cases(Path("marker"))])
def test_check_names_path_and_line(tmp_path, name, capsys):
    case = next(c for c in cases(tmp_path / "marker") if c.name == name)
    directory = corpus_dir(tmp_path, [case])
    tracemalloc.start()
    try:
        started = time.perf_counter()
        status = cli_main(["check", str(directory)])
        seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    captured = capsys.readouterr()
    output = captured.out + captured.err
    assert status == 1, output
    assert find_problem(output, directory, case), (expected_line(directory, case), output)
    valid = re.search(r"(\d+) valid term\(s\)", output)
    assert valid and int(valid[1]) >= 9, output  # the good files are still read
    assert seconds < CHECK_SECONDS, seconds
    assert peak < PEAK_BYTES, f"{peak / 1e6:.1f} MB"
    assert not (tmp_path / "marker").exists()


def run_child(args: list[str], timeout: float) -> tuple[int, str, float, int]:
    """Run Python with ``args`` under an address-space limit; (status, output, seconds,
    peak RSS in KiB) of that child alone (``os.wait4``), killed after ``timeout``."""
    code = (f"import resource, sys; resource.setrlimit(resource.RLIMIT_AS, "
            f"({CHILD_ADDRESS_SPACE},) * 2); from bot.cli import main; "
            f"sys.exit(main(sys.argv[1:]))")
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-c", code, *args], cwd=REPO_ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             env={k: v for k, v in os.environ.items()
                                  if k not in ("GLOSSARY_CONFIG", "DISCORD_TOKEN")})
    killer = threading.Timer(timeout, lambda: os.kill(child.pid, signal.SIGKILL))
    killer.start()
    try:
        output = child.stdout.read().decode("utf-8", "replace")  # type: ignore[union-attr]
        _, status, usage = os.wait4(child.pid, 0)
    finally:
        killer.cancel()
    child.returncode = os.waitstatus_to_exitcode(status)
    child.stdout.close()  # type: ignore[union-attr]
    return child.returncode, output, time.perf_counter() - started, usage.ru_maxrss


def test_check_process_on_the_whole_corpus_is_bounded(tmp_path, marker):
    """The real CLI process, all broken files at once, next to a clean run."""
    clean = tmp_path / "clean"
    shutil.copytree(BUNDLED_TERMS, clean)
    base_status, base_output, _, base_rss = run_child(["check", str(clean)], timeout=30)
    assert base_status == 0, base_output
    case_list = cases(marker)
    directory = corpus_dir(tmp_path, case_list)
    status, output, seconds, rss = run_child(["check", str(directory)], timeout=30)
    assert status == 1, output[-3000:]
    missing = [c.name for c in case_list if not find_problem(output, directory, c)]
    assert not missing, (missing, output[-3000:])
    assert "Traceback" not in output
    assert seconds < 10, seconds
    assert rss - base_rss < CHILD_RSS_GROWTH_KB, (rss, base_rss)
    assert not marker.exists()
    print(f"\ncheck process: {len(case_list)} broken files in {seconds:.2f}s, "
          f"peak RSS {rss / 1024:.0f} MiB (clean run {base_rss / 1024:.0f} MiB)")


async def test_reload_refuses_every_broken_file_and_keeps_serving(start_bot, content_dir,
                                                                  tmp_path, marker):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    slowest = peak_max = 0.0
    case_list = cases(marker)
    with captured_logs() as logs:
        async with start_bot() as h:
            store = h.bot.store
            before = await store.glossary.all_terms()
            assert len(before) == BUNDLED_COUNT
            moderator = h.moderator
            for case in case_list:
                existing = set(content_dir.iterdir())
                case.write(content_dir, scratch)
                tracemalloc.start()
                try:
                    started = time.perf_counter()
                    reply = await h.slash("glossary", "reload", member=moderator)
                    await reply.wait_followup(timeout=RELOAD_SECONDS)
                    seconds = time.perf_counter() - started
                    _, peak = tracemalloc.get_traced_memory()
                finally:
                    tracemalloc.stop()
                (embed,) = reply.embeds
                assert embed["title"] == "Reload refused", (case.name, embed)
                assert reply.ephemeral
                assert find_problem(embed["description"], content_dir, case), (
                    case.name, expected_line(content_dir, case), embed["description"])
                assert seconds < RELOAD_SECONDS, (case.name, seconds)
                assert peak < PEAK_BYTES, (case.name, f"{peak / 1e6:.1f} MB")
                slowest, peak_max = max(slowest, seconds), max(peak_max, peak)
                # same terms, same text
                assert await store.glossary.all_terms() == before, case.name
                card = await h.slash("define", term="git")
                assert card.embeds[0]["title"] == "Git", case.name
                for added in set(content_dir.iterdir()) - existing:
                    added.unlink()
            assert not marker.exists()
            reply = await h.slash("glossary", "reload", member=moderator)
            await reply.wait_followup()
            assert reply.embeds[0]["description"].startswith("Nothing changed"), reply.embeds
            assert await store.glossary.all_terms() == before
    assert not logs.errors(), logs.errors()
    print(f"\nreload: {len(case_list)} broken files refused, slowest {slowest:.2f}s, "
          f"peak {peak_max / 1e6:.1f} MB traced")


# -- bugs the corpus found, each pinned by a test of its own -------------------------


async def test_a_symlink_loop_is_a_problem_not_a_crash(start_bot, content_dir, tmp_path,
                                                       capsys):
    pattern = re.compile(rf"^{re.escape(str(content_dir / SYMLINK_LOOP.file))}(:\d+)?: file: ",
                         re.MULTILINE)
    async with start_bot() as h:
        SYMLINK_LOOP.write(content_dir, tmp_path)
        with contextlib.redirect_stderr(io.StringIO()):
            status = await asyncio.to_thread(cli_main, ["check", str(content_dir)])
        output = capsys.readouterr().out
        assert status == 1 and pattern.search(output), output
        reply = await h.slash("glossary", "reload", member=h.moderator)
        await reply.wait_followup()
        assert reply.embeds[0]["title"] == "Reload refused", reply.embeds
        assert pattern.search(reply.embeds[0]["description"])


def test_deep_nesting_is_a_problem_not_a_segfault(tmp_path):
    directory = tmp_path / "terms"
    shutil.copytree(BUNDLED_TERMS, directory)
    (directory / "deep.yaml").write_text(DEEP_NESTING)
    status, output, seconds, _ = run_child(["check", str(directory)], timeout=30)
    assert status == 1, f"exit status {status}: {output[-500:]}"
    assert f"{directory / 'deep.yaml'}:2: " in output, output[-2000:]
    assert seconds < 10


async def test_deep_nesting_does_not_kill_the_running_bot(tmp_path, content_dir):
    async with FakeDiscord() as fake, bot_process(fake, tmp_path, content_dir) as bot:
        (content_dir / "deep.yaml").write_text(DEEP_NESTING)
        reply = await fake.slash("glossary", "reload", member=fake.moderator)
        await reply.wait_followup(timeout=3)
        assert reply.embeds[0]["title"] == "Reload refused"
        card = await fake.slash("define", term="git", timeout=3)
        assert card.embeds[0]["title"] == "Git"
        assert bot.returncode is None  # still running

