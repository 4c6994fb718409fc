"""Request bodies checked against Discord's own OpenAPI 3.1 description (tests only).

``jsonschema`` is a test dependency and the spec lives next to the repository
(``../shared/discord-api/openapi.json``); when either is missing validation is skipped
and says why (the report header names the reason).
"""

from __future__ import annotations

import functools
import json
import os
import re
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SPEC_PATH = REPO_ROOT.parent / "shared" / "discord-api" / "openapi.json"


class SchemaValidator:
    """Validates request bodies against Discord's OpenAPI 3.1 description.

    One instance per spec file is shared by all tests (see :func:`get_schema_validator`):
    loading the 1 MB spec and compiling validators is the expensive part, so both happen
    lazily and are cached. ``build_seconds`` records the time spent so the self-test can
    report it.
    """

    def __init__(self, spec_path: Path) -> None:
        self.spec_path = spec_path
        self.skipped_reason: str | None = None
        self._spec: dict[str, Any] | None = None
        self._routes: list[tuple[re.Pattern[str], str]] = []
        self._validators: dict[tuple[str, str], Any] = {}
        self.build_seconds = 0.0
        self.load_seconds = 0.0
        self.validate_seconds = 0.0
        self.validated = 0
        try:
            import jsonschema  # noqa: F401
        except ImportError:  # jsonschema is a test dependency only
            self.skipped_reason = "jsonschema is not installed; OpenAPI validation skipped"
            return
        if not spec_path.is_file():
            self.skipped_reason = f"OpenAPI spec not found at {spec_path}; validation skipped"

    @property
    def enabled(self) -> bool:
        return self.skipped_reason is None

    def _load(self) -> dict[str, Any]:
        if self._spec is None:
            started = time.perf_counter()
            spec = json.loads(self.spec_path.read_text(encoding="utf-8"))
            schemas = spec.get("components", {}).get("schemas", {})
            if "SnowflakeType" in schemas:
                # The spec types snowflakes as strings, but Discord accepts integers in
                # request bodies too, and discord.py relies on that (attachment ids are
                # sent as ints). Accept both, as the real API does.
                schemas["SnowflakeType"] = {
                    "anyOf": [schemas["SnowflakeType"], {"type": "integer", "minimum": 0}]
                }
            routes: list[tuple[re.Pattern[str], str, int]] = []
            for template in spec.get("paths", {}):
                pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
                literal = len(re.sub(r"\{[^/]+?\}", "", template))
                routes.append((re.compile(pattern), template, literal))
            # Most literal characters first, so ".../messages/@original" beats ".../{message_id}".
            routes.sort(key=lambda item: -item[2])
            self._routes = [(rx, template) for rx, template, _ in routes]
            self._spec = spec
            self.load_seconds = time.perf_counter() - started
        return self._spec

    def template_for(self, path: str) -> str | None:
        """The spec path template matching a concrete API path (without ``/api/v10``)."""
        self._load()
        for rx, template in self._routes:
            if rx.fullmatch(path):
                return template
        return None

    def _validator(self, template: str, method: str) -> Any:
        key = (template, method)
        if key not in self._validators:
            from jsonschema import Draft202012Validator

            started = time.perf_counter()
            spec = self._load()
            operation = spec["paths"][template].get(method.lower(), {})
            content = operation.get("requestBody", {}).get("content", {})
            schema = content.get("application/json", {}).get("schema")
            validator = None
            if schema is not None:
                validator = Draft202012Validator({**schema, "components": spec["components"]})
            self._validators[key] = validator
            self.build_seconds += time.perf_counter() - started
        return self._validators[key]

    def validate(
        self, method: str, path: str, body: Any
    ) -> list[tuple[list[str | int], str, str]]:
        """Return ``[(json_path, Discord's error code, message), ...]`` (empty when valid or
        unchecked); lengths get Discord's own codes (``BASE_TYPE_MAX_LENGTH``...)."""
        if not self.enabled:
            return []
        template = self.template_for(path)
        if template is None:
            return []
        validator = self._validator(template, method)
        if validator is None:
            return []
        started = time.perf_counter()
        problems: list[tuple[list[str | int], str, str]] = []
        for error in validator.iter_errors(body):
            for leaf in _leaf_errors(error):
                code = _DISCORD_CODES.get(leaf.validator, "SCHEMA_VALIDATION")
                problems.append((list(leaf.absolute_path), code, _describe(leaf)))
        self.validate_seconds += time.perf_counter() - started
        self.validated += 1
        return problems


def get_schema_validator(spec_path: Path | None = None) -> SchemaValidator:
    """The process-wide validator for ``spec_path`` (default: the shared Discord spec).

    ``DISCORD_OPENAPI_SPEC`` overrides the default location.
    """
    if spec_path is None:
        spec_path = Path(os.environ.get("DISCORD_OPENAPI_SPEC", DEFAULT_SPEC_PATH))
    return _validator_for(Path(spec_path).resolve())


@functools.cache
def _validator_for(spec_path: Path) -> SchemaValidator:
    return SchemaValidator(spec_path)


_DISCORD_CODES = {
    "maxLength": "BASE_TYPE_MAX_LENGTH",
    "maxItems": "BASE_TYPE_MAX_LENGTH",
    "minLength": "BASE_TYPE_MIN_LENGTH",
    "minItems": "BASE_TYPE_MIN_LENGTH",
}


def _is_branch_mismatch(error: Any) -> bool:
    """True when a union branch failed only because it is a different kind of object.

    Discord's unions discriminate on ``type`` (``{"type": 4}`` vs ``{"type": 7}``) or on
    null-vs-object; reporting "4 is not one of [8]" for every other branch would bury
    the real problem.
    """
    rel = list(error.relative_path)
    if error.validator in ("enum", "const") and rel == ["type"]:
        return True
    return error.validator == "type" and not rel


def _leaf_errors(error: Any) -> list[Any]:
    if not error.context:
        return [error]
    branches: dict[Any, list[Any]] = defaultdict(list)
    for sub in error.context:
        branches[sub.relative_schema_path[0]].append(sub)
    plausible = [errs for errs in branches.values() if not any(map(_is_branch_mismatch, errs))]
    if not plausible:
        return [error]
    chosen = min(plausible, key=len)
    leaves: list[Any] = []
    for sub in chosen:
        leaves.extend(_leaf_errors(sub))
    return leaves


def _describe(error: Any) -> str:
    where = ".".join(str(p) for p in error.absolute_path) or "<body>"
    if error.validator == "maxLength":
        what = f"must be {error.validator_value} or fewer in length (got {len(error.instance)})"
    elif error.validator == "minLength":
        what = f"must be {error.validator_value} or more in length (got {len(error.instance)})"
    elif error.validator == "maxItems":
        what = f"must have {error.validator_value} or fewer items (got {len(error.instance)})"
    else:
        what = error.message
        if len(what) > 240:
            what = what[:240] + "..."
    return f"{where}: {what}"


