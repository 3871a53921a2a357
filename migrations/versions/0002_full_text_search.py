"""full-text search over section titles and bodies

SQLite gets an FTS5 index kept in step by triggers; PostgreSQL a generated tsvector column
with a GIN index. Neither is part of the models: api.database.SEARCH_OBJECTS tells Alembic's
autogenerate to leave them alone.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SQLITE_UP = [
    "CREATE VIRTUAL TABLE sections_fts USING fts5("
    "title, body, content='sections', content_rowid='id', "
    "tokenize='porter unicode61 remove_diacritics 2')",
    "CREATE TRIGGER sections_fts_insert AFTER INSERT ON sections BEGIN "
    "INSERT INTO sections_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
    "CREATE TRIGGER sections_fts_delete AFTER DELETE ON sections BEGIN "
    "INSERT INTO sections_fts(sections_fts, rowid, title, body) "
    "VALUES ('delete', old.id, old.title, old.body); END",
    "CREATE TRIGGER sections_fts_update AFTER UPDATE OF title, body ON sections BEGIN "
    "INSERT INTO sections_fts(sections_fts, rowid, title, body) "
    "VALUES ('delete', old.id, old.title, old.body); "
    "INSERT INTO sections_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
    "INSERT INTO sections_fts(sections_fts) VALUES ('rebuild')",
]
SQLITE_DOWN = [
    "DROP TRIGGER sections_fts_update",
    "DROP TRIGGER sections_fts_delete",
    "DROP TRIGGER sections_fts_insert",
    "DROP TABLE sections_fts",
]
POSTGRES_UP = [
    "ALTER TABLE sections ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('english', coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(body, '')), 'B')) STORED",
    "CREATE INDEX ix_sections_search_vector ON sections USING gin (search_vector)",
]
POSTGRES_DOWN = [
    "DROP INDEX ix_sections_search_vector",
    "ALTER TABLE sections DROP COLUMN search_vector",
]


def _run(statements: list[str]) -> None:
    for statement in statements:
        op.execute(statement)


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _run(SQLITE_UP)
    elif dialect == "postgresql":
        _run(POSTGRES_UP)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _run(SQLITE_DOWN)
    elif dialect == "postgresql":
        _run(POSTGRES_DOWN)
