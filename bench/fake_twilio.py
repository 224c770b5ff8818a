"""A local Twilio-compatible REST endpoint: answers Messages.json/Calls.json with 201 and a SID, logs arrival times."""
from __future__ import annotations

import argparse
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs


class Handler(BaseHTTPRequestHandler):
    """One request: record (arrival time, kind, To, Body) and answer like Twilio."""

    protocol_version = "HTTP/1.1"
    # The headers and the body go out in two writes: with Nagle on, the body waits for the client's delayed
    # ACK (40 ms on Linux) whenever requests come back to back on a kept-alive connection, a stall no real
    # provider has, which made every burst job look 44 ms slower than a steady one.
    disable_nagle_algorithm = True
    log_file = None
    lock = threading.Lock()

    def do_POST(self):  # noqa: N802 (http.server's name)
        """Create a message or call."""
        arrived = time.time()
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(int(self.headers.get("Content-Length", 0)))
                                             .decode()).items()}
        kind = "call" if self.path.endswith("/Calls.json") else "sms"
        sid = ("CA" if kind == "call" else "SM") + secrets.token_hex(16)
        with self.lock:
            self.log_file.write(json.dumps({"t": arrived, "kind": kind, "to": form.get("To"),
                                            "body": form.get("Body", "")}, ensure_ascii=False) + "\n")
            self.log_file.flush()
        payload = json.dumps({"sid": sid, "status": "queued", "to": form.get("To"), "from": form.get("From"),
                              "body": form.get("Body"), "num_segments": "1"}).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        """Quiet."""


def main() -> None:
    """python -m bench.fake_twilio --port P --log FILE"""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    Handler.log_file = open(args.log, "a", encoding="utf-8")
    ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
