"""The sandbox dashboard at ``/_emulator/ui/``: server-rendered pages over the store and the control plane.

``routes`` is the HTTP edge (access, pages, fragments, actions), ``data`` reads what the pages show through
the services, ``charts`` turns series into SVG geometry; the templates and the small script are beside them.
"""

from emulator.dashboard.routes import bp

__all__ = ["bp"]
