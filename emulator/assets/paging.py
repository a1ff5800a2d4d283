"""Paging and sorting of Asset Management lists (mindsphere-api.md 2b): ``page`` (0-based),
``size`` (default 10, at most 200 or 2000), ``sort`` (``name,asc``), and the HAL list envelope.

Decisions: a ``size`` above the list's maximum is lowered to it and ``page.size`` says so [D] (200 on
assets and types, MindSphere's 2024 limit; 2000 on an asset's aspects and variables, Spring's default cap,
which Siemens' SDK relies on: ``GetVariables(root, {size: 2000})`` in its @sanity test,
test/asset-management-assets.spec.ts:198; no source shows a 400); ``size`` below 1 means the default
and a negative ``page`` means 0, as Spring (MindSphere's framework) reads them; ``sort`` is
``field[,asc|desc]`` or a bare ``asc``/``desc`` (sorting by name).

``_embedded`` is always there, ``{"<key>": []}`` on an empty page and on a page past the end [D]: Siemens'
SDK tests read ``_embedded.assets``/``_embedded.aspectTypes`` unguarded after filtering on a name no asset
has yet (test/asset-management-assets.spec.ts:232, asset-management-aspecttypes.spec.ts:169), in the
``before`` hooks of suites its CI runs daily against real tenants (research sdk-parity.md 1).
The bounds, the integers and the sort fields are the contract's (``spec.py``), checked before a route runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from urllib.parse import urlencode

from emulator import limits
from emulator.store import TenantScope


@dataclass(frozen=True)
class PageRequest:
    page: int
    size: int
    sort_field: str
    descending: bool


def _int_param(args, name: str, default: int) -> int:
    raw = args.get(name)
    return default if raw is None or raw == "" else int(raw)


def page_request(args, sortable: dict, default_sort: str = "name",
                 max_size: int = limits.AM_MAX_PAGE_SIZE) -> PageRequest:
    """The page, size and order of checked query parameters (a 32-bit page, a 32-bit size lowered to
    ``max_size``, a sort field of ``sortable`` or a bare direction)."""
    page = max(_int_param(args, "page", 0), 0)
    size = _int_param(args, "size", limits.AM_DEFAULT_PAGE_SIZE)
    if size < 1:
        size = limits.AM_DEFAULT_PAGE_SIZE
    size = min(size, max_size)
    field, descending = default_sort, False
    parts = [p.strip() for p in (args.get("sort") or "").split(",")]
    if parts[0].lower() in ("asc", "desc"):
        descending = parts[0].lower() == "desc"
    elif parts[0] in sortable:
        field = parts[0]
        descending = len(parts) == 2 and parts[1].lower() == "desc"
    return PageRequest(page, size, field, descending)


def ordered(column, dialect: str):
    """Byte-wise order on every backend (PostgreSQL's default collation is locale-aware)."""
    return column.collate("C") if dialect == "postgresql" else column


def fetch_page(scope: TenantScope, table, condition, req: PageRequest, sortable: dict, tiebreak) -> tuple[list, int]:
    """One page of the table's rows matching ``condition``, and their count, in the request's transaction."""
    total = scope.count(table, condition)
    column = ordered(sortable[req.sort_field], scope.conn.dialect.name)
    order = [column.desc() if req.descending else column.asc(), tiebreak]
    stmt = scope.select(table).where(condition)
    rows = scope.all(stmt.order_by(*order).limit(req.size).offset(req.page * req.size))
    return rows, total


def envelope(key: str, items: list, req: PageRequest, total: int, base_url: str, path: str, args,
             embed_empty: bool = True) -> dict:
    """A HAL page. ``embed_empty``: an empty page still carries ``"_embedded": {key: []}`` (Asset Management, as
    Siemens' SDK tests read it); Event Management's leaves ``_embedded`` out (the SDK's agent test looks for an
    event type by whether ``_embedded`` is there)."""
    pages = math.ceil(total / req.size) if total else 0
    # the other parameters encoded once for the four or five links (a filter's JSON, quoted, is most of the cost)
    kept = urlencode({k: v for k, v in args.items() if k not in ("page", "size")})
    start = f"{base_url}{path}?{kept}&" if kept else f"{base_url}{path}?"

    def href(page: int) -> dict:
        return {"href": f"{start}page={page}&size={req.size}"}

    links = {"self": href(req.page), "first": href(0)}
    if req.page > 0:
        links["prev"] = href(min(req.page - 1, max(pages - 1, 0)))
    if req.page + 1 < pages:
        links["next"] = href(req.page + 1)
    links["last"] = href(max(pages - 1, 0))
    page = {"page": {"size": req.size, "totalElements": total, "totalPages": pages, "number": req.page},
            "_links": links}
    return {"_embedded": {key: items}, **page} if items or embed_empty else page
