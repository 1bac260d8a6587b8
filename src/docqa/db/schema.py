"""The tables of the state database (SQLAlchemy 2 declarative); Alembic migrations create them.

Every change here needs a migration in ``docqa/db/migrations/versions`` (a test compares the
two). Names are the keys: a user, a workspace; conversations have random ids, so that one
user cannot guess another's.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAME_LENGTH = 64


def utc_now() -> datetime:
    """The current time in UTC (what every ``created``/``at`` column holds)."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """The declarative base of docqa's tables."""


class UserRow(Base):
    __tablename__ = "users"

    name: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(128))
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class TokenRow(Base):
    __tablename__ = "tokens"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_name: Mapped[str] = mapped_column(
        String(NAME_LENGTH), ForeignKey("users.name", ondelete="CASCADE"), index=True
    )
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class WorkspaceRow(Base):
    __tablename__ = "workspaces"

    name: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    # None: the workspace keeps its documents in its own folder (``layout.py``).
    corpus_dir: Mapped[str | None] = mapped_column(Text, nullable=True)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class GrantRow(Base):
    __tablename__ = "grants"

    workspace: Mapped[str] = mapped_column(
        String(NAME_LENGTH), ForeignKey("workspaces.name", ondelete="CASCADE"), primary_key=True
    )
    user_name: Mapped[str] = mapped_column(
        String(NAME_LENGTH), ForeignKey("users.name", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(16))


class ConversationRow(Base):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # Not a foreign key: a server without users keeps its conversations under "".
    user_name: Mapped[str] = mapped_column(String(NAME_LENGTH), index=True)
    workspace: Mapped[str] = mapped_column(
        String(NAME_LENGTH), ForeignKey("workspaces.name", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    updated: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class TurnRow(Base):
    __tablename__ = "turns"
    __table_args__ = (UniqueConstraint("conversation_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    question: Mapped[str] = mapped_column(Text)
    # The answer as first shown: ``transcript.answer_record`` (text, citations, contexts).
    answer: Mapped[dict[str, object]] = mapped_column(JSON)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class FeedbackRow(Base):
    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    workspace: Mapped[str] = mapped_column(
        String(NAME_LENGTH), ForeignKey("workspaces.name", ondelete="CASCADE"), index=True
    )
    user_name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    turn_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("turns.id", ondelete="SET NULL"), nullable=True
    )
    kind: Mapped[str] = mapped_column(String(16))  # up, down, passage
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[dict[str, object]] = mapped_column(JSON)
    passage: Mapped[dict[str, object] | None] = mapped_column(JSON, nullable=True)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class AuditRow(Base):
    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now, index=True)
    user_name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(Text, nullable=True)
    outcome: Mapped[str] = mapped_column(Text)
    workspace: Mapped[str | None] = mapped_column(String(NAME_LENGTH), nullable=True)


class ImportRow(Base):
    """One-time imports done (the users file, the audit log of an earlier version)."""

    __tablename__ = "imports"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
