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


def grant(api: NiFiApi, action: str, resource: str, user_id: str) -> None:
    """Adds the user to the policy (`read`, `/flow`), creating the policy when there is none for that resource."""
    try:
        policy = api.get(f"/policies/{action}{resource}")
    except NiFiApiError as error:
        if error.status != 404:
            raise
        policy = None
    if policy and policy["component"]["resource"] == resource:
        users = policy["component"].get("users", [])
        if any(u["id"] == user_id for u in users):
            return
        api.put(f"/policies/{policy['id']}", {
            "revision": policy["revision"],
            "component": {"id": policy["id"], "users": users + [{"id": user_id}]},
        })
        return
    api.post("/policies", {
        "revision": {"version": 0},
        "component": {"action": action, "resource": resource, "users": [{"id": user_id}]},
    })


def ensure_user(api: NiFiApi, identity: str) -> str:
    """The id of the NiFi user `identity` (e.g. a certificate's DN), created when NiFi does not know it."""
    for user in api.get("/tenants/users")["users"]:
        if user["component"]["identity"] == identity:
            return user["id"]
    return api.post("/tenants/users", {"revision": {"version": 0}, "component": {"identity": identity}})["id"]
