"""Alembic's entry into Millrace's migrations: runs them on the connection the store hands
over (engine/store/schema.py), inside its locked transaction.

Millrace migrates its database itself when it starts; there is no `alembic upgrade` to
run by hand, so there is no other connection to open here.
"""

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:
    raise SystemExit("Millrace upgrades its database when it starts (engine/store/schema.py): "
                     "start the app, `python -m engine worker` or the CLI instead of running alembic")
context.configure(connection=connection)
with context.begin_transaction():
    context.run_migrations()
