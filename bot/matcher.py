"""Finding glossary terms mentioned in a message ("Explain terms").

Matching uses the store's in-memory name index, built once per reload: a message costs
a few binary searches per word, whatever the glossary's size. Words are joined before
lookup, so "API routes", "api-routes" and "API-Routes" all meet the name key "apiroutes",
and "Node.js" meets "NodeJS"; trying the longest run of words first makes "API routes"
win over "API". A run may cross a space only where the name has one: "a pi" is two
words, not the one-word name "API".
"""

from __future__ import annotations

from bot.models import name_key, words
from bot.search import NameIndex

MAX_EXTRA_WORDS = 2  # "Node.js" is two words in a message but one in the name "NodeJS"
MAX_SPAN = 12


def find_mentions(index: NameIndex, text: str) -> list[tuple[str, str]]:
    """(slug, title) of the terms mentioned in ``text``, in order of first mention."""
    keys: list[str] = []
    groups: list[int] = []  # which space-separated piece of the message each word is in
    for group, piece in enumerate(text.split()):
        for word in words(piece):
            keys.append(name_key(word))
            groups.append(group)
    span = min(index.max_words + MAX_EXTRA_WORDS, MAX_SPAN)
    found: dict[str, str] = {}
    position = 0
    while position < len(keys):
        for length in range(min(span, len(keys) - position), 0, -1):
            key = "".join(keys[position : position + length])
            spaces = groups[position + length - 1] - groups[position]
            term = index.exact(key)
            if term is not None and spaces < index.words_of(key):
                found.setdefault(*term)
                position += length
                break
        else:
            position += 1
    return list(found.items())
