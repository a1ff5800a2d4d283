"""IoT Time Series' tables: the records and their pre-computed rollups (what TS Aggregates reads)."""

from __future__ import annotations

from sqlalchemy import (
                        BigInteger,
                        Column,
                        Float,
                        Integer,
                        LargeBinary,
                        MetaData,
                        PrimaryKeyConstraint,
                        String,
                        Table,
                        Text,
)

from emulator.store.models import metadata, tenant_column

# Time series records, kept in time blocks of one asset's aspect (``emulator.timeseries.blocks`` says why and how):
# each block's records as GET answers them (JSON texts joined with commas), their times and where each text ends.
ts_blocks = Table(
    "ts_blocks", metadata,
    tenant_column(),
    Column("asset_id", String(32), nullable=False),
    Column("aspect", String(64), nullable=False),
    Column("t_first", BigInteger, nullable=False),  # the first record's time, epoch milliseconds, UTC
    Column("t_last", BigInteger, nullable=False),  # the last record's time
    Column("n", Integer, nullable=False),  # how many records
    Column("times", LargeBinary, nullable=False),  # each record's time: little-endian int64
    Column("ends", LargeBinary, nullable=False),  # where each record's text ends in body: little-endian uint32
    Column("body", Text, nullable=False),
    PrimaryKeyConstraint("tenant_id", "asset_id", "aspect", "t_first"),  # the tenant in every key: no row crosses over
)

# The form records take in a snapshot: one row per record, as readable as the API's answers, and the same whatever
# the blocks' layout (a snapshot outlives it). Not a table of the store: its own metadata, never created.
ts_records = Table(
    "ts_records", MetaData(),
    Column("tenant_id", String(20), nullable=False),
    Column("asset_id", String(32), nullable=False),
    Column("aspect", String(64), nullable=False),
    Column("t", BigInteger, nullable=False),  # epoch milliseconds, UTC
    Column("body", Text, nullable=False),  # the record as GET answers it (JSON text with its "_time")
)

# Pre-computed aggregates of numeric variables, like MindSphere's 2-minute, 1-hour and 1-day ones, kept
# up to date on every write and delete. ``m2`` is the sum of squared deviations from the mean (Welford),
# which combines across buckets without the cancellation a sum of squares suffers.
ts_rollups = Table(
    "ts_rollups", metadata,
    tenant_column(),
    Column("asset_id", String(32), nullable=False),
    Column("aspect", String(64), nullable=False),
    Column("variable", String(64), nullable=False),
    Column("size", Integer, nullable=False),  # bucket length in seconds: 120, 3600 or 86400 (local days)
    Column("start", BigInteger, nullable=False),  # bucket start, epoch ms
    Column("countgood", Integer, nullable=False),
    Column("countuncertain", Integer, nullable=False),
    Column("countbad", Integer, nullable=False),
    Column("sum", Float, nullable=False),
    Column("m2", Float, nullable=False),
    Column("minvalue", Float, nullable=False),
    Column("mintime", BigInteger, nullable=False),
    Column("maxvalue", Float, nullable=False),
    Column("maxtime", BigInteger, nullable=False),
    Column("firstvalue", Float, nullable=False),
    Column("firsttime", BigInteger, nullable=False),
    Column("lastvalue", Float, nullable=False),
    Column("lasttime", BigInteger, nullable=False),
    # the values above packed in one record (stats.PACKED): an aggregate over many intervals reads this column
    # alone (reading thirteen cost it two thirds of a 30-day answer), and keys its kept answer object by it
    Column("packed", LargeBinary, nullable=False),
    PrimaryKeyConstraint("tenant_id", "asset_id", "aspect", "variable", "size", "start"),
    # SQLite: the rows kept in the key's order (no rowid), so that a range of one series' buckets is read where it
    # lies; with a rowid, each row the key's index found was looked up in the table apart (a 30-day aggregate's 150
    # rows: 204 us, now 146)
    sqlite_with_rowid=False,
)

# The form rollups take in a snapshot: their columns without ``packed`` (bytes, and derived: made again on import).
ts_rollups_form = Table("ts_rollups", MetaData(), *(Column(c.name, c.type, nullable=c.nullable)
                                                     for c in ts_rollups.columns if c.name != "packed"))

# Writes whose records the rollups do not hold yet (``emulator.timeseries.pending`` says why and when they are
# folded in): per asset's aspect, in write order (``seq``), the span ``[lo, hi]`` of the records written. A write
# right after the newest noted span, the series' newest record its end, extends that row (a run of appends is one).
ts_pending = Table(
    "ts_pending", metadata,
    tenant_column(),
    Column("asset_id", String(32), nullable=False),
    Column("aspect", String(64), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("lo", BigInteger, nullable=False),
    Column("hi", BigInteger, nullable=False),
    PrimaryKeyConstraint("tenant_id", "asset_id", "aspect", "seq"),
)

TABLES = (ts_pending, ts_rollups, ts_blocks)
