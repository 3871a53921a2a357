"""WSGI entry point: ``flask --app wsgi run`` or ``gunicorn wsgi:app``."""

from api.cli import app_or_exit

app = app_or_exit()
