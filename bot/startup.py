"""Start-up with many glossaries: skip the ones whose files did not change, warm the rest.

A reload of an unchanged glossary is cheap (nothing is parsed) but still a write
transaction, a dozen thread hops and a name index: ~5 ms, 5 s for a thousand glossaries.
Instead every content directory is scanned in one worker-thread trip and compared with
what the database holds (one query); only glossaries with saved, added or removed files
are reloaded. Name indexes are then built in the background, one glossary at a time (a
lookup in a glossary not yet warm builds its own, as it always could).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from pathlib import Path

from bot.directory import scan_directory
from bot.storage.reload import stored_files
from bot.store import Store

log = logging.getLogger(__name__)


async def unchanged_glossaries(store: Store, directories: Mapping[str, Path]) -> set[str]:
    """The glossaries whose directory holds exactly the files (names, sizes, modification
    times) of their last good load, and that have terms: those need no reload."""
    stored = await stored_files(store.db)
    ids = {name: store.glossary_named(name).id for name in directories}

    def compare() -> set[str]:
        same = set()
        for name, directory in directories.items():
            scan = scan_directory(directory)
            files = stored.get(ids[name])
            if files and not scan.problems and set(scan.files) == files:
                same.add(name)
        return same

    return await asyncio.to_thread(compare)


async def warm_indexes(store: Store) -> None:
    """Build every glossary's name index, in the background, one after another."""
    for glossary in store.glossaries:
        try:
            await glossary.names()
        except Exception:
            log.exception("Could not build the name index of glossary %s", glossary.name)
        await asyncio.sleep(0)
