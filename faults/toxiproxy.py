"""A small client of the Toxiproxy 2.x HTTP control API.

Why our own and not ``toxiproxy-python``: that library sends its control
requests without any timeout (the Toxiproxy API has hung under load in past
releases, and a hung control call would hang the whole suite), keeps one
global server address (we may run several stacks), and its ``populate()``
creates proxies one by one instead of calling ``POST /populate``.

Every call here has a timeout (default 5 s) and every non-2xx answer raises
``ToxiproxyError`` carrying the status and the body. Fault kinds in
``faults/`` are built on top of this client.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_delay,
    wait_fixed,
)

__all__ = ["Proxy", "Toxic", "ToxiproxyClient", "ToxiproxyError"]


class ToxiproxyError(RuntimeError):
    """A control call failed: a non-2xx status, or the server could not be reached."""

    def __init__(self, message: str, status: int | None = None, body: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.body = body


@dataclass(frozen=True)
class Toxic:
    name: str
    type: str
    stream: str
    toxicity: float
    attributes: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Toxic:
        return cls(
            name=data["name"],
            type=data["type"],
            stream=data.get("stream", "downstream"),
            toxicity=float(data.get("toxicity", 1.0)),
            attributes=dict(data.get("attributes") or {}),
        )


@dataclass(frozen=True)
class Proxy:
    name: str
    listen: str
    upstream: str
    enabled: bool
    toxics: tuple[Toxic, ...] = ()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Proxy:
        return cls(
            name=data["name"],
            listen=data["listen"],
            upstream=data["upstream"],
            enabled=bool(data.get("enabled", True)),
            toxics=tuple(Toxic.from_json(t) for t in data.get("toxics") or ()),
        )


class ToxiproxyClient:
    """Synchronous client; one instance per Toxiproxy server."""

    def __init__(self, base_url: str, timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout)

    # -- plumbing ---------------------------------------------------------

    def _call(self, method: str, path: str, json: Any = None) -> Any:
        try:
            resp = self._http.request(method, path, json=json)
        except httpx.HTTPError as exc:  # connect error, timeout, ...
            raise ToxiproxyError(
                f"toxiproxy {method} {path} failed: {type(exc).__name__}: {exc}"
            ) from exc
        if not 200 <= resp.status_code < 300:
            raise ToxiproxyError(
                f"toxiproxy {method} {path} -> {resp.status_code}: {resp.text.strip()}",
                status=resp.status_code,
                body=resp.text,
            )
        if resp.status_code == 204 or not resp.content:
            return None
        return resp.json()

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ToxiproxyClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- server -----------------------------------------------------------

    def version(self) -> str:
        data = self._call("GET", "/version")
        # 2.x answers {"version": "..."}; very old servers answered plain text.
        return data["version"] if isinstance(data, dict) else str(data)

    def wait_ready(self, bound_s: float = 10.0) -> str:
        """Poll GET /version until it answers or ``bound_s`` elapses."""
        for attempt in Retrying(
            stop=stop_after_delay(bound_s),
            wait=wait_fixed(0.05),
            retry=retry_if_exception_type(ToxiproxyError),
            reraise=True,
        ):
            with attempt:
                return self.version()
        raise AssertionError("unreachable")  # pragma: no cover

    def reset(self) -> None:
        """Re-enable every proxy and remove every toxic."""
        self._call("POST", "/reset")

    # -- proxies ----------------------------------------------------------

    def populate(self, proxies: list[dict[str, Any]]) -> list[Proxy]:
        """Create (or replace) many proxies in one ``POST /populate`` call.

        Each dict has ``name``, ``listen``, ``upstream`` and optionally ``enabled``.
        """
        data = self._call("POST", "/populate", json=proxies)
        return [Proxy.from_json(p) for p in (data or {}).get("proxies", [])]

    def proxies(self) -> dict[str, Proxy]:
        data = self._call("GET", "/proxies") or {}
        return {name: Proxy.from_json(p) for name, p in data.items()}

    def create_proxy(self, name: str, listen: str, upstream: str, enabled: bool = True) -> Proxy:
        body = {"name": name, "listen": listen, "upstream": upstream, "enabled": enabled}
        return Proxy.from_json(self._call("POST", "/proxies", json=body))

    def get_proxy(self, name: str) -> Proxy:
        return Proxy.from_json(self._call("GET", f"/proxies/{name}"))

    def set_enabled(self, name: str, enabled: bool) -> Proxy:
        """Disabling a proxy also closes its open connections (a toxic does not)."""
        return Proxy.from_json(self._call("POST", f"/proxies/{name}", json={"enabled": enabled}))

    def delete_proxy(self, name: str) -> None:
        self._call("DELETE", f"/proxies/{name}")

    # -- toxics -----------------------------------------------------------

    def add_toxic(
        self,
        proxy: str,
        type: str,
        attributes: dict[str, Any],
        stream: str = "downstream",
        toxicity: float = 1.0,
        name: str | None = None,
    ) -> str:
        """Add a toxic and return its name (generated unique if not given)."""
        if stream not in ("upstream", "downstream"):
            raise ValueError(f"stream must be 'upstream' or 'downstream', not {stream!r}")
        toxic_name = name or f"{type}_{stream}_{uuid.uuid4().hex[:8]}"
        body = {
            "name": toxic_name,
            "type": type,
            "stream": stream,
            "toxicity": toxicity,
            "attributes": attributes,
        }
        data = self._call("POST", f"/proxies/{proxy}/toxics", json=body)
        return data["name"]

    def toxics(self, proxy: str) -> list[Toxic]:
        return [Toxic.from_json(t) for t in self._call("GET", f"/proxies/{proxy}/toxics") or []]

    def remove_toxic(self, proxy: str, toxic_name: str) -> None:
        self._call("DELETE", f"/proxies/{proxy}/toxics/{toxic_name}")
