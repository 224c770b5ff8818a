"""The guard of a provider's unsigned push endpoints (Alibaba's HTTP push, Tencent's callbacks): a secret token in
the path and, optionally, the addresses the push may come from (CIDRs; the client address as the proxy settings
make it). Neither provider signs its pushes, so this is all that stands between the endpoints and anyone."""
from __future__ import annotations

import hmac
import ipaddress
from functools import lru_cache

from flask import request


@lru_cache(maxsize=8)
def _networks(allow: str) -> tuple:
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in allow.split(",") if part.strip())


def push_allowed(token: str, expected: str, allow: str) -> bool:
    """Whether this request's path token is `expected` (never, when that is unset) and its address is in `allow`
    (comma-separated CIDRs; "" for any address)."""
    if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
        return False
    if not allow:
        return True
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in network for network in _networks(allow))
