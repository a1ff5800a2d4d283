"""Debian's chromium driven by Playwright (no browser download), for the tests that need a real browser: the
dashboard, and the cross-site requests a web page can make to the control plane."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import IN_CI

CHROMIUM = Path("/usr/bin/chromium")


def require_chromium():
    """Playwright's API over Debian's chromium; skipped locally without them, a failure in CI."""
    reason = None
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)"
    else:
        try:
            from playwright.sync_api import sync_playwright
        except ImportError:
            reason = "the playwright package is missing: pip install -e '.[test]'"
    if reason:
        if IN_CI:
            pytest.fail(f"{reason} (CI is set, so the browser test fails instead of skipping)", pytrace=False)
        pytest.skip(reason)
    return sync_playwright
