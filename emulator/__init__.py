"""mindsphere-emulator: a local emulator of Siemens MindSphere (Insights Hub) IIoT APIs.

The whole product is one Flask application (see :func:`emulator.app.create_app`) over one
SQLAlchemy store, served the same way by the pytest fixture, the developer sandbox and CI.
"""

__version__ = "0.1.0"
