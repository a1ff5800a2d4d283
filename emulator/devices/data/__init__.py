"""What the simulated devices read at run time, shipped inside the package so that an installed wheel has a pump.

* ``asset-model.json``: the pump's aspect and asset types, as Asset Management v3 request bodies.
* ``scenarios/*.yaml``: the built-in fault scenarios (``--scenario cavitation``).
* ``countries.json``: ISO 3166 country names for the fleet's site locations.

Files are read through :mod:`importlib.resources`, never by a path relative to a source checkout: a wheel,
a zip import and an editable install read them alike. The top-level ``fixtures/`` folder of the repository
holds examples and test data only.
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable

SCENARIO_SUFFIX = ".yaml"


def _file(*parts: str) -> Traversable:
    found = resources.files(__name__)
    for part in parts:
        found = found / part
    return found


def read_text(*parts: str) -> str:
    """The text of a packaged file, e.g. ``read_text("scenarios", "cavitation.yaml")``."""
    return _file(*parts).read_text(encoding="utf-8")


def scenario_names() -> list[str]:
    """The built-in scenarios, by name (``cavitation``, ``seal-wear``, ...)."""
    return sorted(entry.name[: -len(SCENARIO_SUFFIX)] for entry in _file("scenarios").iterdir()
                  if entry.name.endswith(SCENARIO_SUFFIX))
