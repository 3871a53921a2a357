"""content generation: one value that changes with every committed change of the content

Readers compare it with the value an answer was kept under (api/cache.py) instead of
querying what the answer shows. Triggers on pages, sections and links keep it in step, so
every writer changes it: API requests, `seed`, link checks, other processes and hosts. It is a
random 63-bit value rather than a counter, so a database built again from scratch never
repeats the value some process kept answers under.

SQLite's writers take the database lock one at a time, so a plain trigger per row is enough.
PostgreSQL's fire at COMMIT (deferred constraint triggers) and only once per transaction:
taking the row lock last means a writer never waits for it while holding locks another
writer waits for (no deadlock), and concurrent writers queue for it only while committing.

Not part of the models: api.database.DATABASE_OBJECTS tells Alembic's autogenerate to leave
the table alone.

Revision ID: 0004
Revises: 0003
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLES = ("pages", "sections", "links")
CREATE_TABLE = (
    "CREATE TABLE content_generation (id INTEGER NOT NULL, value BIGINT NOT NULL, "
    "CONSTRAINT pk_content_generation PRIMARY KEY (id))"
)
SQLITE_BUMP = (
    "UPDATE content_generation SET value = abs(random() >> 1) WHERE id = 1; "
    "INSERT INTO content_generation (id, value) SELECT 1, abs(random() >> 1) "
    "WHERE NOT EXISTS (SELECT 1 FROM content_generation WHERE id = 1);"
)
POSTGRES_FUNCTION = """
CREATE FUNCTION bump_content_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('zarr.content_generation_bumped', true) IS DISTINCT FROM 'yes' THEN
        PERFORM set_config('zarr.content_generation_bumped', 'yes', true);
        INSERT INTO content_generation (id, value)
        VALUES (1, floor(random() * 9e18)::bigint)
        ON CONFLICT (id) DO UPDATE SET value = EXCLUDED.value;
    END IF;
    RETURN NULL;
END
$$
"""


def upgrade():
    dialect = op.get_bind().dialect.name
    op.execute(CREATE_TABLE)
    if dialect == "sqlite":
        op.execute("INSERT INTO content_generation (id, value) VALUES (1, abs(random() >> 1))")
        for table in TABLES:
            for action in ("INSERT", "UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER content_generation_{table}_{action.lower()} "
                    f"AFTER {action} ON {table} BEGIN {SQLITE_BUMP} END"
                )
    elif dialect == "postgresql":
        op.execute(
            "INSERT INTO content_generation (id, value) VALUES (1, floor(random() * 9e18)::bigint)"
        )
        op.execute(POSTGRES_FUNCTION)
        for table in TABLES:
            op.execute(
                f"CREATE CONSTRAINT TRIGGER content_generation_{table} "
                f"AFTER INSERT OR UPDATE OR DELETE ON {table} "
                "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
                "EXECUTE FUNCTION bump_content_generation()"
            )


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for table in TABLES:
            for action in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER content_generation_{table}_{action}")
    elif dialect == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER content_generation_{table} ON {table}")
        op.execute("DROP FUNCTION bump_content_generation()")
    op.execute("DROP TABLE content_generation")
