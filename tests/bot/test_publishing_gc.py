"""Applying a publish keeps the collector off the heap the process held before (issue 20).

A 10,000-term apply triggers full collections; each would walk the whole heap with the
GIL held and stall the serving process's event loop. During the apply that heap is frozen
(``gc.freeze``); after it, succeeded or failed, nothing stays frozen, so no garbage is kept.
"""

from __future__ import annotations

import gc
import shutil
from pathlib import Path

import pytest

from bot.publishing import _collector_skips_the_heap
from bot.storage.published import LocalApply
from tests.bot.test_publishing import eventually, following
from tests.conftest import BUNDLED_COUNT, BUNDLED_TERMS


async def test_an_apply_freezes_the_old_heap_and_leaves_nothing_frozen(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = Path(shutil.copytree(BUNDLED_TERMS, tmp_path / "terms"))
    frozen_while_writing: list[int] = []
    write = LocalApply.write

    async def watched(self: LocalApply, rows: object) -> None:
        frozen_while_writing.append(gc.get_freeze_count())
        await write(self, rows)  # type: ignore[arg-type]

    monkeypatch.setattr(LocalApply, "write", watched)
    async with (following(tmp_path, "a", pg_url) as (a, _),
                following(tmp_path, "b", pg_url) as (b, _)):
        await a.reloads.reload(files)

        async def applied() -> bool:
            return await b.glossary.term_count() == BUNDLED_COUNT

        await eventually(applied)
        assert frozen_while_writing and min(frozen_while_writing) > 0
        assert gc.get_freeze_count() == 0



async def test_a_failed_apply_leaves_nothing_frozen() -> None:
    with pytest.raises(RuntimeError):
        async with _collector_skips_the_heap():
            assert gc.get_freeze_count() > 0
            raise RuntimeError("the local disk is full")
    assert gc.get_freeze_count() == 0
