"""The URLs of our webhooks handed to Twilio: a query, when there is one, always ends with `end=1`.

Twilio's signature string is the URL followed by the fields' names and values with no separator, so the
last characters of a signed URL could be moved into the first field's name (`?tier=1` + `Digits` signs
like `?tier=` + `1Digits`). A query that must end with exactly this parameter cannot lose a character.
"""
from __future__ import annotations

from urllib.parse import urlencode

END_NAME, END_VALUE = "end", "1"
END = f"{END_NAME}={END_VALUE}"


def webhook_url(base_url: str, path: str, params: dict | None = None) -> str:
    """PUBLIC_BASE_URL + path, and the params (if any) as a query that ends with `end=1`."""
    url = base_url.rstrip("/") + path
    query = {k: v for k, v in (params or {}).items() if k != END_NAME and v is not None}
    return f"{url}?{urlencode({**query, END_NAME: END_VALUE})}" if query else url


def query_terminated(query: str) -> bool:
    """Whether a raw query string is empty or ends with exactly the final `end=1` parameter."""
    return not query or query == END or query.endswith("&" + END)
