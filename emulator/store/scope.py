"""Tenant scoping: the only door from services to tenant data.

A :class:`TenantScope` is made from the tenant of the verified token; every statement it builds
carries ``tenant_id = <that tenant>``, so a route cannot read or write another tenant's rows, and
another tenant's ids simply are not found (404), as on MindSphere.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Select, Table, bindparam, delete, func, insert, select, update
from sqlalchemy.engine import Connection, RowMapping

from emulator.store.engine import fast_execute, fast_executemany, fast_rows, fast_scalar, json_loads, noted

_BY_KEY: dict[Table, Select] = {}
_BY_KEY_SQLITE: dict[tuple[Table, bool], tuple[str, list]] = {}
_INSERT: dict[Table, object] = {}
_INSERT_SQLITE: dict[tuple, tuple[str, list] | None] = {}


def _sqlite_by_key(table: Table, conn: Connection, with_model_key: bool) -> tuple[str, list]:
    """The by-key read of a table as SQLite text, and each column's (name, decoder): JSON text parsed as
    SQLAlchemy's JSON type parses it (``json_loads``, the engine's), SQLite's 0/1 as booleans; the rest as the driver
    gives it. ``with_model_key``: one more column after them, the tenant's model key (its parameter first)."""
    found = _BY_KEY_SQLITE.get((table, with_model_key))
    if found is None:
        quote = conn.dialect.identifier_preparer.quote
        pk = next(iter(table.primary_key.columns))
        columns = ", ".join(quote(c.name) for c in table.columns)
        if with_model_key:
            columns += f", {MODEL_KEY_COLUMN}"
        decoders = [(c.name, json_loads if isinstance(c.type, JSON) else bool if isinstance(c.type, Boolean) else None)
                    for c in table.columns]
        found = _BY_KEY_SQLITE[(table, with_model_key)] = (
            f"SELECT {columns} FROM {quote(table.name)} WHERE tenant_id = ? AND {quote(pk.name)} = ?", decoders)
    return found


def _sqlite_insert(table: Table, names: tuple[str, ...], conn: Connection) -> tuple[str, list] | None:
    """The plain INSERT of these columns as SQLite text, and each value's bind processor (the column type's own, as
    SQLAlchemy applies it: JSON serialised the same way); None when a column left out has a Python-side default,
    which only SQLAlchemy's path fills in."""
    key = (table, names)
    if key not in _INSERT_SQLITE:
        found = None
        if not any(c.default is not None for c in table.columns if c.name not in names):
            quote = conn.dialect.identifier_preparer.quote
            sql = (f"INSERT INTO {quote(table.name)} ({', '.join(map(quote, names))}) "
                   f"VALUES ({', '.join('?' * len(names))})")
            found = (sql, [table.c[n].type.dialect_impl(conn.dialect).bind_processor(conn.dialect) for n in names])
        _INSERT_SQLITE[key] = found
    return _INSERT_SQLITE[key]


# the tenant's model key as a column of another read (its parameter: the tenant's name), and on its own
MODEL_KEY_COLUMN = "(SELECT instance || ':' || model_version FROM tenants WHERE name = ?)"
_MODEL_KEY = f"SELECT {MODEL_KEY_COLUMN}"


# The first of the two keys of every tenant's gate: PostgreSQL keeps two-key advisory locks apart from one-key ones
# (the time series writers', emulator.timeseries.service.serialize)
_GATE_SPACE = 0x54454E  # "TEN"


def tenant_gate(conn: Connection, tenant: str, *, exclusive: bool) -> None:
    """Wait for the tenant's turn, before anything of it is read for a write (PostgreSQL; SQLite's BEGIN IMMEDIATE
    serialises writers already): writers share the gate, a delete or reset holds it alone, and they pass in the
    order they came. The tenant row's own locks do not queue: a delete's FOR UPDATE waiting for the writers' KEY
    SHARE let every later KEY SHARE by, so under steady writes the delete waited as long as they wrote (minutes).
    A shared request behind a waiting exclusive one waits its turn here."""
    if conn.dialect.name == "postgresql":
        take = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        fast_scalar(conn, f"SELECT {take}({_GATE_SPACE}, hashtext(?))", tenant)


def model_key(scope: TenantScope) -> str | None:
    """``{instance}:{model_version}`` of the scope's tenant: the key of data derived from its types and contracts
    (one small query; a re-created tenant of the same name has another instance, so it never meets its
    predecessor's cached catalogue). None when there is nothing to key: no such tenant, or a transaction that
    changed the tenant's model (:func:`model_changed_here`): what it derives from its own uncommitted change is not
    to be kept, as it may yet be rolled back and its version number then be another change's."""
    found = noted(scope.conn)
    if found.get("model_changed"):
        return None
    kept = found.get("model_key")
    if kept is not None and kept[0] == scope.tenant:
        return kept[1]
    key = fast_scalar(scope.conn, _MODEL_KEY, scope.tenant)
    note_model_key(scope, key)
    return key


def note_model_key(scope: TenantScope, key: str | None) -> None:
    """``key``, the tenant's model key as a read of the scope's transaction found it (:data:`MODEL_KEY_COLUMN`
    beside the row a request reads first): :func:`model_key` answers with it for the rest of the transaction
    instead of a query of its own. SQLite only, where a transaction reads one snapshot; each statement of
    PostgreSQL's (read committed) sees the latest commit, so there every call reads the key afresh, as before."""
    if key is not None and scope.conn.dialect.name == "sqlite":
        noted(scope.conn)["model_key"] = (scope.tenant, key)


KEPT_MAX = 1024  # entries of a store's cache of data derived from tenants' models, the oldest first out


def kept_for_model(scope: TenantScope, key: tuple, build):
    """``build(model key)``, kept in the store's cache under the tenant's model key (:func:`model_key`) and made again
    only when the model moved; nothing is kept where there is no key."""
    version = model_key(scope)
    hit = scope.cache.get(key)
    if hit is not None and hit[0] == version:  # never None: nothing is kept under None
        return hit[1]
    value = build(version)
    if version is not None:
        scope.cache[key] = (version, value)
        while len(scope.cache) > KEPT_MAX:
            scope.cache.pop(next(iter(scope.cache)))
    return value


def model_changed_here(scope: TenantScope) -> None:
    """The scope's transaction changed its tenant's model (types, file assignments, contracts): see
    :func:`model_key`."""
    noted(scope.conn)["model_changed"] = True


class TenantScope:
    """``cache`` is a per-store dict for data derived from tenant rows (keyed by tenant and version)."""

    def __init__(self, conn: Connection, tenant: str, cache: dict | None = None):
        self.conn = conn
        self.tenant = tenant
        self.cache = {} if cache is None else cache

    def select(self, table: Table, *columns) -> Select:
        stmt = select(*columns) if columns else select(table)
        return stmt.where(table.c.tenant_id == self.tenant)

    def get(self, table: Table, key, *, with_model_key: bool = False) -> RowMapping | dict | None:
        """The row with this primary key if it belongs to the tenant, else None. On SQLite the read goes through
        the driver (every request reads a row or two this way; SQLAlchemy's statement path cost more than the
        read), with the column types' conversions applied as SQLAlchemy applies them. ``with_model_key``: the
        read also brings the tenant's model key (:func:`note_model_key`), for a request that derives the row's
        answer from the tenant's types: one statement where there were two."""
        if self.conn.dialect.name == "sqlite":
            sql, decoders = _sqlite_by_key(table, self.conn, with_model_key)
            rows = fast_rows(self.conn, sql, *((self.tenant,) if with_model_key else ()), self.tenant, key)
            if not rows:
                return None
            row = rows[0]
            if with_model_key:
                note_model_key(self, row[-1])
            return {name: decode(value) if decode is not None and value is not None else value
                    for (name, decode), value in zip(decoders, row, strict=False)}
        stmt = _BY_KEY.get(table)
        if stmt is None:  # built once per table: building a statement costs more than running it
            pk = next(iter(table.primary_key.columns))
            stmt = _BY_KEY[table] = select(table).where(table.c.tenant_id == bindparam("_tenant"),
                                                        pk == bindparam("_key"))
        return self.conn.execute(stmt, {"_tenant": self.tenant, "_key": key}).mappings().first()

    def all(self, stmt: Select) -> list[RowMapping]:
        return list(self.conn.execute(stmt).mappings())

    def count(self, table: Table, *where) -> int:
        return self.conn.scalar(self.select(table, func.count()).select_from(table).where(*where)) or 0

    def insert(self, table: Table, **values) -> None:
        self.insert_many(table, [values])

    def insert_many(self, table: Table, rows: list[dict]) -> None:
        """Rows of one set of columns. On SQLite through the driver with the column types' bind processors (a
        fresh tenant's rows, every test's: SQLAlchemy's statement path cost more than the inserts); elsewhere as
        parameters of the table's plain INSERT (compiled once per set of columns), not built into a statement of
        their own (``.values()`` cost more than the insert)."""
        rows = [{"tenant_id": self.tenant, **row} for row in rows]
        if not rows:
            return
        names = tuple(rows[0])
        if self.conn.dialect.name == "sqlite" and all(tuple(row) == names for row in rows):
            found = _sqlite_insert(table, names, self.conn)
            if found is not None:
                sql, processors = found
                fast_executemany(self.conn, sql, [[v if p is None else p(v) for p, v in
                                                   zip(processors, row.values(), strict=True)] for row in rows])
                return
        stmt = _INSERT.get(table)
        if stmt is None:
            stmt = _INSERT[table] = insert(table)
        self.conn.execute(stmt, rows)

    def update(self, table: Table, *where, **values) -> int:
        stmt = update(table).where(table.c.tenant_id == self.tenant, *where).values(**values)
        return self.conn.execute(stmt).rowcount

    def delete(self, table: Table, *where) -> int:
        if not where:  # all of the tenant's rows (tenant removal and reset, a statement per table): the driver's
            return fast_execute(self.conn, f"DELETE FROM {table.name} WHERE tenant_id = ?", self.tenant)
        return self.conn.execute(delete(table).where(table.c.tenant_id == self.tenant, *where)).rowcount
