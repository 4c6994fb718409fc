"""Why the sandbox could not start, in words for the person who ran it."""

from __future__ import annotations


class SandboxError(RuntimeError):
    """The sandbox could not start; the message says why and what to do."""


class PortInUse(SandboxError):
    """The page's port is taken (or not allowed)."""
