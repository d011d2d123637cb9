"""The few NiFi REST calls the stack itself needs (log in, read, grant policies), over verified TLS."""

import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path


class NiFiApiError(RuntimeError):
    def __init__(self, status: int, message: str):
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


class NiFiApi:
    def __init__(self, port: int | str, ca_cert: Path, token: str | None = None):
        self.port, self.ca_cert, self.token = port, ca_cert, token
        self.base = f"https://localhost:{port}/nifi-api"
        self.context = ssl.create_default_context(cafile=str(ca_cert))

    def login(self, username: str, password: str) -> "NiFiApi":
        """The same API with a token for `username`; raises NiFiApiError when NiFi refuses the login."""
        form = urllib.parse.urlencode({"username": username, "password": password}).encode()
        token = self._call("POST", "/access/token", form, "application/x-www-form-urlencoded", raw=True)
        return NiFiApi(self.port, self.ca_cert, token)

    def get(self, path: str) -> dict:
        return self._call("GET", path)

    def post(self, path: str, body: dict) -> dict:
        return self._call("POST", path, json.dumps(body).encode(), "application/json")

    def put(self, path: str, body: dict) -> dict:
        return self._call("PUT", path, json.dumps(body).encode(), "application/json")

    def delete(self, path: str) -> dict:
        return self._call("DELETE", path)

    def _call(self, method: str, path: str, data: bytes | None = None, content_type: str | None = None, raw=False):
        request = urllib.request.Request(self.base + path, data=data, method=method)
        if content_type:
            request.add_header("Content-Type", content_type)
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, context=self.context, timeout=30) as response:
                body = response.read().decode()
        except urllib.error.HTTPError as error:
            raise NiFiApiError(error.code, error.read().decode(errors="replace")[:500]) from None
        return body if raw else (json.loads(body) if body else {})
