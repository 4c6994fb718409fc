"""Letting go of large collections a run at a time."""

from __future__ import annotations

from collections import OrderedDict, UserList

from bot.freeing import FREE_RUN, let_go


class RecordingList(UserList):
    """A list that records how many elements each deletion freed."""

    def __init__(self, items: list[object]) -> None:
        super().__init__(items)
        self.runs: list[int] = []

    def __delitem__(self, index: slice | int) -> None:
        before = len(self.data)
        super().__delitem__(index)
        self.runs.append(before - len(self.data))


def test_a_list_goes_a_run_at_a_time():
    items = RecordingList([object() for _ in range(FREE_RUN * 2 + 7)])
    let_go(items)
    assert len(items) == 0
    assert items.runs == [FREE_RUN, FREE_RUN, 7]


def test_sets_and_mappings_are_emptied_too():
    many = FREE_RUN * 3 + 1
    values, mapping, ordered = {str(n) for n in range(many)}, dict.fromkeys(range(many)), \
        OrderedDict.fromkeys(range(many))
    let_go(values, mapping, ordered, [], set())
    assert values == set() and mapping == {} and ordered == OrderedDict()
