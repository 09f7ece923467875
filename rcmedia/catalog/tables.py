"""SQLAlchemy 2 table definitions. Change them only together with a new Alembic revision."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC; always hands back aware datetimes, also on SQLite (which forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given to the catalog; pass UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class AssetRow(Base):
    __tablename__ = "assets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    series: Mapped[str | None] = mapped_column(String(300), index=True)
    episode: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(20), index=True)
    language: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text, default="")
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    original_filename: Mapped[str] = mapped_column(String(1000))
    profile: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), index=True)
    duration: Mapped[float | None] = mapped_column(Float)
    storage_prefix: Mapped[str | None] = mapped_column(String(500))
    segment_type: Mapped[str | None] = mapped_column(String(10))
    target_duration: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # when it was withdrawn: its package is deleted withdrawn_grace_days later (storage sweep)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    rights: Mapped[list[RightsRow]] = relationship(
        back_populates="asset", cascade="all, delete-orphan", order_by="RightsRow.id"
    )
    renditions: Mapped[list[RenditionRow]] = relationship(
        back_populates="asset", cascade="all, delete-orphan", order_by="RenditionRow.height.desc()"
    )

    __table_args__ = (Index("ix_assets_title", "title"),)


class AssetTermRow(Base):
    """One search term of an asset's field (rcmedia.core.search_terms; rcmedia.catalog.search)."""

    __tablename__ = "asset_terms"

    # The key's order is the search's: a term's assets by field (best first), then by id.
    term: Mapped[str] = mapped_column(String(64), primary_key=True)
    field: Mapped[int] = mapped_column(SmallInteger, primary_key=True)  # search.FIELDS: 0 title …
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), primary_key=True)
    # The asset's best field with this term (no better field has it): one row per (term, asset).
    best: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())

    __table_args__ = (
        Index("ix_asset_terms_asset_id", "asset_id"),
        # A one-term search reads a term's assets in rank order from here, each once (0009).
        Index(
            "ix_asset_terms_best",
            "term",
            "field",
            "asset_id",
            "best",  # SQLite covers a query with the index only if it holds every column read
            postgresql_where=text("best"),
            sqlite_where=text("best = 1"),
        ),
    )


class RightsRow(Base):
    __tablename__ = "asset_rights"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), index=True)
    output: Mapped[str] = mapped_column(String(20))
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    asset: Mapped[AssetRow] = relationship(back_populates="rights")


class RenditionRow(Base):
    __tablename__ = "renditions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    bandwidth: Mapped[int] = mapped_column(Integer)
    average_bandwidth: Mapped[int] = mapped_column(Integer)
    codecs: Mapped[str] = mapped_column(String(100))
    frame_rate: Mapped[float] = mapped_column(Float)
    segment_count: Mapped[int] = mapped_column(Integer)
    segments: Mapped[list[str]] = mapped_column(JSON)
    segment_durations: Mapped[list[float]] = mapped_column(JSON)
    init_segment: Mapped[str | None] = mapped_column(String(200))

    asset: Mapped[AssetRow] = relationship(back_populates="renditions")


class JobRow(Base):
    __tablename__ = "ingest_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id", ondelete="CASCADE"), index=True)
    source_path: Mapped[str] = mapped_column(String(2000))
    original_filename: Mapped[str] = mapped_column(String(1000))
    profile: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(20), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    speed: Mapped[float | None] = mapped_column(Float)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    worker: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ChannelRow(Base):
    """A channel as applied from playlists/: the TOML text is kept and re-parsed on load."""

    __tablename__ = "channels"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    filename: Mapped[str] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer)
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ScheduleDayRow(Base):
    """One built broadcast day of a channel output; its version changes on every rebuild."""

    __tablename__ = "schedule_days"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[str] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    output: Mapped[str] = mapped_column(String(20))
    day: Mapped[date] = mapped_column(Date)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("channel_id", "output", "day", name="uq_schedule_day"),)


class EventRow(Base):
    """An EPG event: a run of one asset's segments, with its playout counters."""

    __tablename__ = "epg_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day_id: Mapped[int] = mapped_column(ForeignKey("schedule_days.id", ondelete="CASCADE"), index=True)
    channel_id: Mapped[str] = mapped_column(String(64))
    output: Mapped[str] = mapped_column(String(20))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_us: Mapped[int] = mapped_column(BigInteger)
    asset_id: Mapped[int] = mapped_column(Integer)
    first_segment: Mapped[int] = mapped_column(Integer)
    last_segment: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(500))
    series: Mapped[str | None] = mapped_column(String(300))
    episode: Mapped[int | None] = mapped_column(Integer)
    slot_id: Mapped[str | None] = mapped_column(String(100))
    premiere: Mapped[bool] = mapped_column(Boolean)
    previously_shown: Mapped[datetime | None] = mapped_column(UTCDateTime)
    substitution: Mapped[str | None] = mapped_column(Text)
    locked: Mapped[bool] = mapped_column(Boolean)
    seq0: Mapped[int] = mapped_column(BigInteger)
    disc0: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_epg_events_channel_time", "channel_id", "output", "starts_at"),)


class AsRunRow(Base):
    """One closed as-run entry: an event as it aired. Written once, after the event ended."""

    __tablename__ = "asrun_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(64))
    output: Mapped[str] = mapped_column(String(20))
    scheduled_start: Mapped[datetime] = mapped_column(UTCDateTime)
    actual_start: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_us: Mapped[int] = mapped_column(BigInteger)
    asset_id: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(20))
    substitution: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime)

    # also the index of the reads, which are by channel output and time
    __table_args__ = (UniqueConstraint("channel_id", "output", "actual_start", name="uq_asrun_entry"),)


class AsRunMarkRow(Base):
    """How far a channel output's as-run log is closed: every event that ended by then is recorded."""

    __tablename__ = "asrun_marks"

    channel_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    output: Mapped[str] = mapped_column(String(20), primary_key=True)
    closed_until: Mapped[datetime] = mapped_column(UTCDateTime)


class StandInRow(Base):
    """A published segment found missing from storage (or unreadable) while it was asked for: the
    origin answered with the slate in its place. Written once per segment, for the as-run log."""

    __tablename__ = "segment_stand_ins"

    storage_key: Mapped[str] = mapped_column(String(1000), primary_key=True)
    asset_id: Mapped[int] = mapped_column(Integer, index=True)
    rendition: Mapped[str] = mapped_column(String(50))
    segment_index: Mapped[int] = mapped_column(Integer)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime)


class UserRow(Base):
    """An operator, editor or admin account; the password is kept as an argon2 hash only."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # the channel ids an operator may edit; NULL: every channel (admins are never limited)
    channels: Mapped[list[str] | None] = mapped_column(JSON)
    # moves on every change of role, state, channels or password: an admin's edit names the
    # version it was made on and a stale one is refused, never applied over another's
    version: Mapped[int] = mapped_column(Integer, default=1)


class SessionRow(Base):
    """A login session. Keyed by the SHA-256 of its token: a copy of the table logs nobody in."""

    __tablename__ = "sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ApiTokenRow(Base):
    """An API token for scripts (``Authorization: Bearer``), kept as the SHA-256 of its secret."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditRow(Base):
    """Who changed what, when: one row per write, with what it was before and after.

    The actor is a name, not a key: the entry outlives the account.
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(100), index=True)
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(300))
    before: Mapped[Any | None] = mapped_column(JSON)
    after: Mapped[Any | None] = mapped_column(JSON)
