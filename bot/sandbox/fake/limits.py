"""What Discord refuses in a message or a modal, answered as Discord answers it.

Every check returns ``(path, code, message)`` problems that :func:`~bot.sandbox.fake.rest.
form_error` turns into Discord's 400 50035 "Invalid Form Body" with its nested ``errors``
(the codes and wording are Discord's). Limits: content 2,000; at most 10 embeds and 6,000
characters across all of them (title, description, field names and values, footer, author);
at most 5 action rows of 5 buttons (or one select); custom_id at most 100 and unique within
a message; modals: title 45, 1-5 components, text input label 45 and value 4,000.
"""

from __future__ import annotations

from typing import Any

Problem = tuple[list[str | int], str, str]

CONTENT_MAX = 2000
EMBEDS_MAX = 10
EMBED_TOTAL_MAX = 6000
EMBED_FIELD_LIMITS = {"title": 256, "description": 4096}
FIELDS_MAX, FIELD_NAME_MAX, FIELD_VALUE_MAX = 25, 256, 1024
FOOTER_MAX, AUTHOR_MAX = 2048, 256
ROWS_MAX, BUTTONS_PER_ROW = 5, 5
CUSTOM_ID_MAX, LABEL_MAX = 100, 80
MODAL_TITLE_MAX, MODAL_COMPONENTS_MAX = 45, 5
TEXT_INPUT_LABEL_MAX, TEXT_INPUT_VALUE_MAX = 45, 4000
ACTION_ROW, BUTTON, TEXT_INPUT, LABEL = 1, 2, 4, 18
SELECTS = (3, 5, 6, 7, 8)
IS_COMPONENTS_V2 = 1 << 15


def _too_long(path: list[str | int], limit: int) -> Problem:
    return path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length."


def embed_size(embed: dict[str, Any]) -> int:
    """Characters Discord counts towards the 6,000 of a message."""
    size = len(embed.get("title") or "") + len(embed.get("description") or "")
    for item in embed.get("fields") or []:
        size += len(item.get("name") or "") + len(item.get("value") or "")
    size += len((embed.get("footer") or {}).get("text") or "")
    size += len((embed.get("author") or {}).get("name") or "")
    return size


def embed_problems(embeds: list[dict[str, Any]]) -> list[Problem]:
    problems: list[Problem] = []
    if len(embeds) > EMBEDS_MAX:
        problems.append(_too_long(["embeds"], EMBEDS_MAX))
    for i, embed in enumerate(embeds):
        for key, limit in EMBED_FIELD_LIMITS.items():
            if len(embed.get(key) or "") > limit:
                problems.append(_too_long(["embeds", i, key], limit))
        fields = embed.get("fields") or []
        if len(fields) > FIELDS_MAX:
            problems.append(_too_long(["embeds", i, "fields"], FIELDS_MAX))
        for j, item in enumerate(fields):
            if len(item.get("name") or "") > FIELD_NAME_MAX:
                problems.append(_too_long(["embeds", i, "fields", j, "name"], FIELD_NAME_MAX))
            if len(item.get("value") or "") > FIELD_VALUE_MAX:
                problems.append(_too_long(["embeds", i, "fields", j, "value"], FIELD_VALUE_MAX))
        if len((embed.get("footer") or {}).get("text") or "") > FOOTER_MAX:
            problems.append(_too_long(["embeds", i, "footer", "text"], FOOTER_MAX))
        if len((embed.get("author") or {}).get("name") or "") > AUTHOR_MAX:
            problems.append(_too_long(["embeds", i, "author", "name"], AUTHOR_MAX))
    total = sum(embed_size(e) for e in embeds)
    if total > EMBED_TOTAL_MAX:
        problems.append((["embeds"], "BASE_TYPE_MAX_LENGTH",
                         f"Embed size exceeds maximum size of {EMBED_TOTAL_MAX}"))
    return problems


def _custom_id_problems(
    component: dict[str, Any], path: list[str | int], seen: set[str]
) -> list[Problem]:
    custom_id = component.get("custom_id")
    if custom_id is None:
        return []
    if len(custom_id) > CUSTOM_ID_MAX:
        return [_too_long([*path, "custom_id"], CUSTOM_ID_MAX)]
    if custom_id in seen:
        return [([*path, "custom_id"], "COMPONENT_CUSTOM_ID_DUPLICATED",
                 "Component custom id cannot be duplicated")]
    seen.add(custom_id)
    return []


def component_problems(components: list[dict[str, Any]], flags: int = 0) -> list[Problem]:
    """Rows of buttons or one select (classic components); custom_ids everywhere."""
    problems: list[Problem] = []
    seen: set[str] = set()
    if not flags & IS_COMPONENTS_V2 and len(components) > ROWS_MAX:
        problems.append(_too_long(["components"], ROWS_MAX))
    for i, row in enumerate(components):
        path: list[str | int] = ["components", i]
        problems += _custom_id_problems(row, path, seen)
        children = row.get("components") or []
        if row.get("type") == ACTION_ROW:
            has_select = any(c.get("type") in SELECTS for c in children)
            limit = 1 if has_select else BUTTONS_PER_ROW
            if len(children) > limit:
                problems.append(_too_long([*path, "components"], limit))
        for j, child in enumerate(children):
            child_path: list[str | int] = [*path, "components", j]
            problems += _custom_id_problems(child, child_path, seen)
            if child.get("type") == BUTTON and len(child.get("label") or "") > LABEL_MAX:
                problems.append(_too_long([*child_path, "label"], LABEL_MAX))
        for key in ("accessory", "component"):
            if isinstance(row.get(key), dict):
                problems += _custom_id_problems(row[key], [*path, key], seen)
    return problems


def message_problems(body: dict[str, Any]) -> list[Problem]:
    """Problems of a message create or edit body (empty-message is :func:`is_empty`)."""
    problems: list[Problem] = []
    if len(body.get("content") or "") > CONTENT_MAX:
        problems.append(_too_long(["content"], CONTENT_MAX))
    problems += embed_problems(list(body.get("embeds") or []))
    problems += component_problems(list(body.get("components") or []),
                                   int(body.get("flags") or 0))
    return problems


def is_empty(body: dict[str, Any], *, has_files: bool) -> bool:
    """Discord refuses to create a message with nothing in it (50006)."""
    return not (
        body.get("content") or body.get("embeds") or body.get("components") or has_files
        or body.get("sticker_ids") or body.get("poll")
    )


def _text_inputs(components: list[dict[str, Any]]) -> list[tuple[list[str | int], dict]]:
    found: list[tuple[list[str | int], dict]] = []
    for i, top in enumerate(components):
        if top.get("type") == LABEL and isinstance(top.get("component"), dict):
            found.append((["components", i, "component"], {**top["component"],
                                                           "label": top.get("label")}))
        for j, child in enumerate(top.get("components") or []):
            found.append((["components", i, "components", j], child))
    return [(p, c) for p, c in found if c.get("type") == TEXT_INPUT]


def modal_problems(data: dict[str, Any]) -> list[Problem]:
    """A modal (callback type 9): title, 1-5 components, text inputs' label and value."""
    problems: list[Problem] = []
    if len(data.get("title") or "") > MODAL_TITLE_MAX:
        problems.append(_too_long(["data", "title"], MODAL_TITLE_MAX))
    components = list(data.get("components") or [])
    if not 1 <= len(components) <= MODAL_COMPONENTS_MAX:
        problems.append((["data", "components"], "BASE_TYPE_BAD_LENGTH",
                         f"Must be between 1 and {MODAL_COMPONENTS_MAX} in length."))
    seen: set[str] = set()
    for path, text_input in _text_inputs(components):
        full = ["data", *path]
        problems += _custom_id_problems(text_input, full, seen)
        if len(text_input.get("label") or "") > TEXT_INPUT_LABEL_MAX:
            problems.append(_too_long([*full, "label"], TEXT_INPUT_LABEL_MAX))
        for key in ("value", "placeholder"):
            limit = TEXT_INPUT_VALUE_MAX if key == "value" else 100
            if len(text_input.get(key) or "") > limit:
                problems.append(_too_long([*full, key], limit))
        if int(text_input.get("max_length") or 0) > TEXT_INPUT_VALUE_MAX:
            problems.append((
                [*full, "max_length"], "NUMBER_TYPE_MAX",
                f"int value should be less than or equal to {TEXT_INPUT_VALUE_MAX}.",
            ))
    return problems
