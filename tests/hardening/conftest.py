"""The hardening tests' long variants run only when asked for: ``pytest tests/hardening -m slow``.

CI runs plain ``pytest -q`` (see ``.ci/run``), which must stay quick, so a test marked
``slow`` is skipped unless the ``-m`` expression names the marker.
"""

from __future__ import annotations

import pytest


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("slow") and "slow" not in (item.config.getoption("-m") or ""):
        pytest.skip("long variant: run it with `pytest tests/hardening -m slow`")
