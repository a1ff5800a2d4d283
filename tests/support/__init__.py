"""Helpers of the project's own tests, kept in one package so that no test module redefines them.

``paths`` names every API path once; ``tenants`` makes tenants through the control plane; ``odata``, ``pump``,
``sdk``, ``security`` and ``timeseries`` hold the set-up shared by the test modules of one area (they were loose
``tests/*_support.py`` files, imported under two names depending on the module).

Imported as ``tests.support.<module>``: ``tests/`` itself is no package, and pytest's default import mode
(``prepend``) puts the directory of the top-level ``conftest.py`` (the repository root) first on ``sys.path``,
where ``tests`` is found as a namespace package. Every module imports the helpers under that one name, so each
helper module is loaded once (the test modules themselves are imported by their base names).
"""
