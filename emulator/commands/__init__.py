"""Subcommands of ``mindsphere-emulator`` that have grown past a few lines: each a module with ``add_parser`` and
``run``. They sit with the CLI, above the API packages whose services they call."""
