"""bench.cold_reload's parts measure the work they name: every file reloaded or parsed."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import cold_reload

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
