"""bench.cold_reload's parts measure the work they name: every file reloaded or parsed."""

from __future__ import annotations

import os
import pickle
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bench import cold_reload, floor_worker
from bot.directory import display_path, parse_files, scan_directory
from bot.parse_worker import HEADER_BYTES, frame

TERMS = Path(__file__).resolve().parents[2] / "data" / "terms"


@pytest.mark.parametrize("part", cold_reload.PARTS)
def test_each_part_handles_every_file_and_reports_its_time(part: str) -> None:
    files = len([p for p in TERMS.iterdir() if p.suffix in (".yaml", ".yml")])
    result = cold_reload.child(part, TERMS)
    assert result["files"] == files > 0
    assert result["wall_s"] > 0 and result["cpu_s"] > 0


def test_a_part_runs_in_its_own_process() -> None:
    result = cold_reload.run_part("inline", TERMS)
    assert result["files"] > 0 and result["cpu_s"] > 0


def test_unknown_parts_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cold_reload.main(["--parts", "reload,compose"])
    assert "unknown parts: compose" in capsys.readouterr().err


def test_a_floor_whose_workers_fail_is_refused_not_measured_as_the_real_parse(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without its workers a floor would parse for real in a thread and print the real
    reload's time as the floor: it must fail instead."""
    monkeypatch.setitem(cold_reload.FLOORS, "yaml-floor", "no-such-mode")
    with pytest.raises(RuntimeError, match="did not commit"):
        cold_reload.child("yaml-floor", TERMS)


def test_the_floor_worker_answers_each_chunk_with_the_rows_built_beforehand(
    tmp_path: Path,
) -> None:
    files = scan_directory(TERMS).files[:3]
    parsed = parse_files(TERMS, display_path(TERMS), files)
    records = tmp_path / "records.pickle"
    records.write_bytes(pickle.dumps({p.file[0]: pickle.dumps(p) for p in parsed}))
    for mode in floor_worker.MODES:
        out = subprocess.run(
            [sys.executable, "-m", "bench.floor_worker"], input=frame((str(TERMS), "x", files)),
            capture_output=True, timeout=60, check=True,
            env={**os.environ, floor_worker.RECORDS_ENV: str(records),
                 floor_worker.MODE_ENV: mode}).stdout
        status, answer = pickle.loads(out[HEADER_BYTES:])
        assert (status, answer) == ("ok", parsed)


def test_the_sqlite_floor_writes_every_term_as_the_reload_would(tmp_path: Path) -> None:
    database = tmp_path / "straight.sqlite3"
    cold_reload._new_database(database)
    parsed = cold_reload._parsed(TERMS)
    count, cpu = cold_reload._write_straight(database, parsed)
    assert count == len(parsed) > 0
    assert {"terms", "term_data", "terms_fts", "names", "links", "commit"} <= set(cpu)
    with sqlite3.connect(database) as check:
        assert check.execute("SELECT count(*) FROM terms").fetchone()[0] == len(parsed)
        found = check.execute("SELECT count(*) FROM terms_fts WHERE terms_fts MATCH ?",
                              ('"backend"',)).fetchone()[0]
        assert found > 0
