"""The HTTP request as the protocol layer sees it, independent of the web server."""

from dataclasses import dataclass, field
from urllib.parse import parse_qsl


@dataclass
class HttpRequest:
    method: str                 # "GET" or "POST"
    path: str                   # path as received, without the query string
    query_string: str           # raw query string, still percent-encoded
    headers: dict               # header name in lower case -> value as received
    body: bytes = b""
    remote_addr: str = ""
    # Decoded Query API parameters: name -> first value, from the query string
    # and, for a form POST, the body.
    params: dict = field(default_factory=dict)

    @property
    def host(self):
        return self.headers.get("host", "")

    @property
    def content_type(self):
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def is_form_post(self):
        return self.method == "POST" and self.content_type == "application/x-www-form-urlencoded"


def parse_query_params(query_string, body=b"", form=False):
    """Decode Query API parameters; the first value of a repeated name wins."""
    params = {}
    pairs = parse_qsl(query_string, keep_blank_values=True)
    if form and body:
        pairs += parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    for name, value in pairs:
        params.setdefault(name, value)
    return params
