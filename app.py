"""The WSGI entry point: `gunicorn app:app` or `flask --app app run`."""
from hotline.factory import create_app

app = create_app()
