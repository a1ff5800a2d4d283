"""The target of a recoverable record's ``downloadLink``: ``GET /api/mindconnect/v3/recoverableRecordPayloads/{id}
?token=...`` answers the exchange body the record keeps, with its Content-Type, byte for byte.

Why a route of its own (and an API descriptor of its own, unprotected): MCSPEC's ``downloadLink`` is a pre-signed
URL, which a client fetches without a bearer token; the link's token (signed, naming the tenant and the record,
expiring by the virtual clock: :func:`emulator.mindconnect.recovery.link_claims`) is its authorization. A link
that does not verify or has expired answers 403, a record deleted since 404, in MindConnect's envelope.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from emulator import context, errors
from emulator.mindconnect import recovery
from emulator.mindconnect.models import recoverable
from emulator.runtime import runtime
from emulator.store import TenantScope

PREFIX = "/api/mindconnect/v3/recoverableRecordPayloads"
bp = Blueprint("mindconnectlinks", __name__, url_prefix=PREFIX)


@bp.get("/<record_id>")
def download_payload(record_id: str):
    st, rt = context.state(), runtime()
    if st.db is None:
        st.db = rt.store.begin(write=False)
    claims = recovery.link_claims(request.args.get("token") or "", record_id, rt.clock.time(),
                                  lambda kid: rt.keyring.find(kid, st.db))
    tenant = claims["ten"]
    if rt.tenant_cache.lookup(st.db, tenant, fresh=True) is None:
        raise errors.NotFound(f"Recoverable record {record_id!r} not found")
    st.tenant = tenant  # the journal's and the faults' tenant from here on
    row = TenantScope(st.db, tenant, rt.derived_cache).get(recoverable, record_id)
    if row is None:
        raise errors.NotFound(f"Recoverable record {record_id!r} not found")
    return Response(bytes(row["payload"]), status=200, content_type=row["content_type"])
