"""bench.scale end to end, tiny: two real bot processes, a shard each, 40 servers, 1 s of load.

Not a timing test (the figures are only printed): it checks that the scale run starts
every process on its own shards, that every answer is a card or choices from the process
that owns the server, and that it measures what it says it measures.
"""

from __future__ import annotations

import re
import time

import pytest

from bench.generate import ensure_glossary
from bench.scale import Settings, measure, report


@pytest.mark.slow
async def test_a_tiny_scale_run_answers_from_every_process(tmp_path):
    settings = Settings(processes=2, shards_per_process=1, guilds=40, seconds=1.0,
                        in_flight=4, keep_logs=tmp_path / "logs")
    lines: list[str] = []
    results = await measure(settings, ensure_glossary(20), 20, lines.append,
                            time.monotonic() + 150)
    assert results.stopped == "", results.stopped
    assert results.started_all_s is not None and len(results.ready_s) == 2
    assert results.identifies == 2
    assert results.answered > 0 and results.wrong == 0 and results.failed == 0
    assert all(count > 0 for count in results.per_process_answered)
    assert sum(results.per_process_answered) == results.answered
    assert set(results.latencies) == {"define", "autocomplete"}
    assert all(rss and rss > 20 for rss in results.rss_mb)  # read from /proc while running
    handles = re.search(r"SQLite: (\d+) on the database file\(s\) \((\d+)/(\d+)\)",
                        results.connections)
    assert handles and all(int(n) > 0 for n in handles.groups()), results.connections
    assert results.errors_logged == 0
    assert any("interactions/s" in line for line in report(results))
    kept = sorted(path.name for path in (tmp_path / "logs").iterdir())  # --keep-logs
    assert kept == ["bot0.log", "bot1.log"]
    assert "Ready as " in (tmp_path / "logs" / "bot0.log").read_text()
