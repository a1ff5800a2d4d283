"""Storage: SQLAlchemy models, the engine and sessions, and tenant scoping."""

from emulator.store.engine import Store, StoreVersionError, fast_scalar, holds_store
from emulator.store.scope import TenantScope, kept_for_model, model_changed_here, model_key, tenant_gate

__all__ = ["Store", "StoreVersionError", "TenantScope", "fast_scalar", "holds_store", "kept_for_model",
           "model_changed_here", "model_key", "tenant_gate"]
