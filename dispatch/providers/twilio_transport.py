"""twilio-python's HTTP transport on one urllib3 connection pool, built for a worker that sends all day.

The SDK's default transport (requests) rebuilds a request through a Session on every call and merges the
environment's proxy and certificate settings each time; on a local provider that was half of a send's cost.
This one keeps what matters from it: kept-alive connections, the timeout, certificate checks against the
same CA bundle, proxies from the environment, and no retry of a POST (a retried send could go out twice;
transient failures are retried through the queue instead).
"""
from __future__ import annotations

import json
import logging
from urllib.parse import urlencode, urlsplit
from urllib.request import getproxies, proxy_bypass

import certifi
import urllib3
from twilio.http import HttpClient
from twilio.http.response import Response


class PooledHttpClient(HttpClient):
    """A twilio `HttpClient` on a urllib3 pool; errors are urllib3's (providers.py translates them)."""

    def __init__(self, base_url: str, timeout: float):
        super().__init__(logging.getLogger("twilio.http_client"), False, timeout)
        self._pool = _pool_for(base_url)

    def request(self, method: str, url: str, params=None, data=None, headers=None, auth=None, timeout=None,
                allow_redirects: bool = False) -> Response:
        """Make one HTTP request as twilio-python asks for it."""
        if timeout is not None and timeout <= 0:
            raise ValueError(timeout)
        headers = dict(headers or {})
        if auth:
            headers.update(urllib3.make_headers(basic_auth=f"{auth[0]}:{auth[1]}"))
        if params:
            url = f"{url}{'&' if '?' in url else '?'}{urlencode(params, doseq=True)}"
        body = None
        if data:
            if headers.get("Content-Type", "").endswith("json"):
                body = json.dumps(data)
            else:
                body = urlencode(data, doseq=True)
                headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        # As requests applies one timeout: to the connect, and to each wait for the reply.
        wait = timeout or self.timeout
        reply = self._pool.request(method.upper(), url, body=body, headers=headers, redirect=allow_redirects,
                                   retries=False, timeout=urllib3.Timeout(connect=wait, read=wait))
        return Response(reply.status, reply.data.decode("utf-8"), reply.headers)


def _pool_for(base_url: str) -> urllib3.PoolManager:
    """A pool for the provider's host, through the environment's proxy when requests would have used one."""
    parts = urlsplit(base_url)
    proxy = None if proxy_bypass(parts.hostname or "") else getproxies().get(parts.scheme)
    # The same options for both, passed by name: urllib3 types each of them.
    if proxy:
        return urllib3.ProxyManager(proxy, cert_reqs="CERT_REQUIRED", ca_certs=certifi.where(), maxsize=4)
    return urllib3.PoolManager(cert_reqs="CERT_REQUIRED", ca_certs=certifi.where(), maxsize=4)
