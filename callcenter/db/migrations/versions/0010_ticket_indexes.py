"""Indexes the 1,000,000-ticket benchmark showed missing (docs/PERFORMANCE.md).

- `kb_article (use_count DESC, title, id)`: the screen pop suggests the most used
  articles for the caller's device models. Without it PostgreSQL reads every article and
  sorts (5 ms at 10,000 articles, growing with the knowledge base); with it, it walks
  the articles most used first and stops at the third that applies (0.1 ms). The
  knowledge base's "most used" listing takes the same order.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KB_BY_USE = "ix_kb_article_use_count_title_id"


def upgrade() -> None:
    op.create_index(KB_BY_USE, "kb_article", [sa.text("use_count DESC"), "title", "id"])


def downgrade() -> None:
    op.drop_index(KB_BY_USE, table_name="kb_article")
