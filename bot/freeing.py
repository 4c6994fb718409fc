"""Letting go of large collections a run at a time, so the event loop never waits for
one long free.

Freeing a collection's last reference frees every element in one C loop that holds the
GIL throughout, in whichever thread it happens: the 100,000 entries of a scanned
directory (the benchmark's 100k glossary, their objects spread over the heap by the
scan) took 38-42 ms, 4,096 cached cards 10-12 ms. Emptied a run at a time in a worker
thread, the interpreter can hand the GIL to the event loop between runs: the longest
event-loop tick while the scan went fell from 40 to 8 ms (docs/performance.md, "Issue
14, third quiet session").
"""

from __future__ import annotations

from collections.abc import MutableMapping, MutableSequence, MutableSet

FREE_RUN = 1000  # elements freed between two chances for the event loop: about 0.1-0.4 ms


def let_go(*collections: MutableSequence[object] | MutableSet[object]
           | MutableMapping[object, object]) -> None:
    """Empty each collection a run at a time; call it in a worker thread.

    Only worth it for the last reference: whatever else still holds the elements frees
    them later, at once. The collections are empty afterwards.
    """
    for items in collections:
        if isinstance(items, MutableSequence):
            while items:
                del items[-FREE_RUN:]
        elif isinstance(items, MutableSet):
            pop = items.pop
            for _ in range(len(items)):
                pop()
        else:
            popitem = items.popitem
            for _ in range(len(items)):
                popitem()
