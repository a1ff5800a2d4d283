"""Storage: SQLAlchemy models, the engine and sessions, and tenant scoping."""

from emulator.store.engine import Store, StoreVersionError, fast_scalar, holds_store
from emulator.store.scope import TenantScope, model_changed_here, model_key

__all__ = ["Store", "StoreVersionError", "TenantScope", "fast_scalar", "holds_store", "model_changed_here",
           "model_key"]
