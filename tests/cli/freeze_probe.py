"""A WSGI app that answers how many objects its worker froze (tests/cli/test_serving.py serves it)."""
import gc


def app(environ, start_response):
    """The worker's permanent generation size, as text."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(gc.get_freeze_count()).encode()]
