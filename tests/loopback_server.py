"""A provider fake's HTTP server: a WSGI app served on a free port of 127.0.0.1 in a thread, without access logs."""
from __future__ import annotations

import threading

from werkzeug.serving import WSGIRequestHandler, make_server


class _Quiet(WSGIRequestHandler):
    def log_request(self, code="-", size="-"):
        """Skip access logging."""


class LoopbackServer:
    """Serves `self._wsgi` (a subclass defines it) on loopback; `endpoint` is the plain-http URL an SDK is given."""

    thread_name = "provider-fake"
    _server = None

    def start(self):
        """Serve on a free port of 127.0.0.1 in a thread."""
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True, request_handler=_Quiet)
        threading.Thread(target=self._server.serve_forever, name=self.thread_name, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def endpoint(self) -> str:
        """The endpoint setting for the provider's SDK: plain http on loopback."""
        return f"http://127.0.0.1:{self._server.server_port}"

    def _wsgi(self, environ, start_response):
        raise NotImplementedError
