"""Tenant scoping: the only door from services to tenant data.

A :class:`TenantScope` is made from the tenant of the verified token; every statement it builds
carries ``tenant_id = <that tenant>``, so a route cannot read or write another tenant's rows, and
another tenant's ids simply are not found (404), as on MindSphere.
"""

from __future__ import annotations

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session


class TenantScope:
    def __init__(self, session: Session, tenant: str):
        self.session = session
        self.tenant = tenant

    def select(self, model, *columns) -> Select:
        stmt = select(*columns) if columns else select(model)
        return stmt.where(model.tenant_id == self.tenant)

    def get(self, model, key):
        """The row with this primary key if it belongs to the tenant, else None."""
        pk = model.__mapper__.primary_key[0]
        return self.session.scalar(self.select(model).where(pk == key))

    def count(self, model, *where) -> int:
        return self.session.scalar(self.select(model, func.count()).select_from(model).where(*where)) or 0

    def add(self, obj):
        obj.tenant_id = self.tenant
        self.session.add(obj)
        return obj

    def delete_all(self, model) -> int:
        return self.session.execute(delete(model).where(model.tenant_id == self.tenant)).rowcount
