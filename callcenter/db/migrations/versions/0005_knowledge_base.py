"""The knowledge base, with a full-text index of the database's own, and device locations.

`kb_article` holds the articles, `kb_article_target` the device models and software they
apply to, `kb_article_use` which tickets each one solved (one count per ticket). The
full-text index depends on the database: on SQLite an FTS5 table over the article's
columns (external content, so the text is stored once) kept in step by triggers; on
PostgreSQL a generated `tsvector` column, weighted title > applies-to > category > body,
with a GIN index. `device.location` is where the asset survey found the device.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-12
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The FTS5 column order is the weight order `callcenter.knowledge.store` ranks by.
_SQLITE_FTS = (
    "CREATE VIRTUAL TABLE kb_article_fts USING fts5("
    "title, applies_text, category, body, content='kb_article', content_rowid='id', "
    "tokenize='porter unicode61')",
    "CREATE TRIGGER kb_article_fts_insert AFTER INSERT ON kb_article BEGIN "
    "INSERT INTO kb_article_fts(rowid, title, applies_text, category, body) "
    "VALUES (new.id, new.title, new.applies_text, new.category, new.body); END",
    "CREATE TRIGGER kb_article_fts_delete AFTER DELETE ON kb_article BEGIN "
    "INSERT INTO kb_article_fts(kb_article_fts, rowid, title, applies_text, category, body) "
    "VALUES ('delete', old.id, old.title, old.applies_text, old.category, old.body); END",
    "CREATE TRIGGER kb_article_fts_update AFTER UPDATE ON kb_article BEGIN "
    "INSERT INTO kb_article_fts(kb_article_fts, rowid, title, applies_text, category, body) "
    "VALUES ('delete', old.id, old.title, old.applies_text, old.category, old.body); "
    "INSERT INTO kb_article_fts(rowid, title, applies_text, category, body) "
    "VALUES (new.id, new.title, new.applies_text, new.category, new.body); END",
)

_POSTGRES_VECTOR = (
    "setweight(to_tsvector('english', title), 'A') || "
    "setweight(to_tsvector('english', applies_text), 'B') || "
    "setweight(to_tsvector('english', category), 'C') || "
    "setweight(to_tsvector('english', body), 'D')"
)


def upgrade() -> None:
    with op.batch_alter_table("device") as batch:
        batch.add_column(sa.Column("location", sa.String(200), nullable=True))
    op.create_table(
        "kb_article",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("applies_text", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("use_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("author", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_kb_article"),
    )
    op.create_index("ix_kb_article_category", "kb_article", ["category"])
    op.create_table(
        "kb_article_target",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("name_key", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("article_id", "kind", "name", name="pk_kb_article_target"),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["kb_article.id"],
            name="fk_kb_article_target_article_id_kb_article",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_kb_article_target_name_key", "kb_article_target", ["name_key"])
    op.create_table(
        "kb_article_use",
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("article_id", "ticket_id", name="pk_kb_article_use"),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["kb_article.id"],
            name="fk_kb_article_use_article_id_kb_article",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["ticket.id"],
            name="fk_kb_article_use_ticket_id_ticket",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_kb_article_use_ticket_id", "kb_article_use", ["ticket_id"])
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in _SQLITE_FTS:
            op.execute(statement)
    elif dialect == "postgresql":
        op.execute(
            "ALTER TABLE kb_article ADD COLUMN search_vector tsvector "
            f"GENERATED ALWAYS AS ({_POSTGRES_VECTOR}) STORED"
        )
        op.execute(
            "CREATE INDEX ix_kb_article_search_vector ON kb_article USING gin (search_vector)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER kb_article_fts_{trigger}")
        op.execute("DROP TABLE kb_article_fts")
    op.drop_index("ix_kb_article_use_ticket_id", "kb_article_use")
    op.drop_table("kb_article_use")
    op.drop_index("ix_kb_article_target_name_key", "kb_article_target")
    op.drop_table("kb_article_target")
    op.drop_index("ix_kb_article_category", "kb_article")
    op.drop_table("kb_article")  # PostgreSQL drops the column's index with it
    with op.batch_alter_table("device") as batch:
        batch.drop_column("location")
