"""The first schema: users, tokens, workspaces, grants, conversations, turns, feedback, audit.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

NAME = sa.String(64)


def _time(name: str, **kwargs: object) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False, **kwargs)  # type: ignore[arg-type]


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("name", NAME, primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(128), nullable=False),
        _time("created"),
    )
    op.create_table(
        "tokens",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column(
            "user_name", NAME, sa.ForeignKey("users.name", ondelete="CASCADE"), nullable=False
        ),
        _time("created"),
    )
    op.create_index("ix_tokens_user_name", "tokens", ["user_name"])
    op.create_table(
        "workspaces",
        sa.Column("name", NAME, primary_key=True),
        sa.Column("corpus_dir", sa.Text(), nullable=True),
        _time("created"),
    )
    op.create_table(
        "grants",
        sa.Column(
            "workspace",
            NAME,
            sa.ForeignKey("workspaces.name", ondelete="CASCADE"),
            primary_key=True,
        ),  # fmt: skip
        sa.Column(
            "user_name", NAME, sa.ForeignKey("users.name", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("role", sa.String(16), nullable=False),
    )
    op.create_table(
        "conversations",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("user_name", NAME, nullable=False),
        sa.Column(
            "workspace",
            NAME,
            sa.ForeignKey("workspaces.name", ondelete="CASCADE"),
            nullable=False,
        ),  # fmt: skip
        sa.Column("title", sa.String(200), nullable=False),
        _time("created"),
        _time("updated"),
    )
    op.create_index("ix_conversations_user_name", "conversations", ["user_name"])
    op.create_index("ix_conversations_workspace", "conversations", ["workspace"])
    op.create_table(
        "turns",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "conversation_id",
            sa.String(32),
            sa.ForeignKey("conversations.id", ondelete="CASCADE"),
            nullable=False,
        ),  # fmt: skip
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.JSON(), nullable=False),
        _time("created"),
        sa.UniqueConstraint("conversation_id", "position"),
    )
    op.create_index("ix_turns_conversation_id", "turns", ["conversation_id"])
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "workspace",
            NAME,
            sa.ForeignKey("workspaces.name", ondelete="CASCADE"),
            nullable=False,
        ),  # fmt: skip
        sa.Column("user_name", NAME, nullable=False),
        sa.Column(
            "turn_id", sa.Integer(), sa.ForeignKey("turns.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.JSON(), nullable=False),
        sa.Column("passage", sa.JSON(), nullable=True),
        _time("created"),
    )
    op.create_index("ix_feedback_workspace", "feedback", ["workspace"])
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _time("at"),
        sa.Column("user_name", NAME, nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.Text(), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("workspace", NAME, nullable=True),
    )
    op.create_index("ix_audit_at", "audit", ["at"])
    op.create_table(
        "imports",
        sa.Column("name", sa.String(64), primary_key=True),
        _time("at"),
    )
    # The workspace every existing index becomes (its corpus is the corpus_dir setting).
    op.execute("INSERT INTO workspaces (name, corpus_dir, created) VALUES ('default', NULL, "
               "CURRENT_TIMESTAMP)")  # fmt: skip


def downgrade() -> None:
    for table in ("imports", "audit", "feedback", "turns", "conversations", "grants"):
        op.drop_table(table)
    for table in ("workspaces", "tokens", "users"):
        op.drop_table(table)
