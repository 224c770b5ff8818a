"""The Twilio adapter's HTTP transport: one kept-alive connection for a worker's sends; network faults are transient."""
from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dispatch.providers import ProviderError
from dispatch.providers.twilio import TwilioProvider

ACCOUNT = "AC" + "c" * 32


class _Twilioish(BaseHTTPRequestHandler):
    """Answers Messages.json like Twilio (201 + SID) and remembers which client connection asked."""

    protocol_version = "HTTP/1.1"
    peers: list = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.peers.append(self.client_address)
        body = json.dumps({"sid": f"SM{len(self.peers):032d}", "status": "queued"}).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        """Quiet."""


@pytest.fixture
def twilioish():
    _Twilioish.peers = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Twilioish)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Twilioish.peers
    server.shutdown()
    server.server_close()


def test_a_workers_sends_share_one_kept_alive_connection(twilioish):
    base_url, peers = twilioish
    provider = TwilioProvider(ACCOUNT, "token", base_url, timeout=5)
    sids = [provider.send_sms("+8613800000001", f"派单{n}", sender="+864768000001").sid for n in range(3)]
    assert sids == [f"SM{n:032d}" for n in (1, 2, 3)]
    assert len(set(peers)) == 1


def test_a_provider_that_refuses_connections_is_a_transient_error():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    provider = TwilioProvider(ACCOUNT, "token", f"http://127.0.0.1:{port}", timeout=2)
    with pytest.raises(ProviderError) as raised:
        provider.send_sms("+8613800000001", "派单", sender="+864768000001")
    assert not raised.value.permanent
