"""The WSGI entry point for gunicorn and `flask`."""

from backend import create_app

app = create_app()
