"""Finding glossary terms mentioned in a message ("Explain terms").

Built once per reload from every title and alias; matching then costs a few dictionary
lookups per word, whatever the glossary's size. Words are joined before lookup, so
"API routes", "api-routes" and "API-Routes" all meet the name key "apiroutes", and
"Node.js" meets "NodeJS"; trying the longest run of words first makes "API routes" win
over "API".
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.models import name_key

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
MAX_EXTRA_WORDS = 2  # "Node.js" is two words in a message but one in the name "NodeJS"
MAX_SPAN = 12


class TermMatcher:
    def __init__(self, names: Iterable[tuple[str, str, str]]) -> None:
        """``names`` are (name, slug, title) for every title and alias of every term."""
        self._slug_by_key: dict[str, str] = {}
        self.titles: dict[str, str] = {}
        longest = 1
        for name, slug, title in names:
            key = name_key(name)
            if key:
                self._slug_by_key.setdefault(key, slug)
                self.titles[slug] = title
                longest = max(longest, len(_WORD.findall(name)))
        self._span = min(longest + MAX_EXTRA_WORDS, MAX_SPAN)

    def find(self, text: str) -> list[str]:
        """Slugs of the terms mentioned in ``text``, in order of first mention."""
        words = [name_key(word) for word in _WORD.findall(text)]
        found: dict[str, None] = {}
        position = 0
        while position < len(words):
            for length in range(min(self._span, len(words) - position), 0, -1):
                slug = self._slug_by_key.get("".join(words[position : position + length]))
                if slug is not None:
                    found.setdefault(slug)
                    position += length
                    break
            else:
                position += 1
        return list(found)
