"""The workload client: the Feed API over HTTP, every call recorded in a History."""

from __future__ import annotations

from typing import Any

import httpx

from suites.history import History, Op

WRITE_PATHS = {
    "user": "/v1/users",
    "follow": "/v1/follows",
    "post": "/v1/posts",
    "comment": "/v1/comments",
    "like": "/v1/likes",
}

# Longer than any budget in the contract, so the client never decides a read's fate.
CLIENT_TIMEOUT_S = 10.0


class FeedClient:
    def __init__(self, api_url: str, history: History | None = None) -> None:
        self.history = history if history is not None else History()
        self._http = httpx.Client(base_url=api_url, timeout=CLIENT_TIMEOUT_S)

    def close(self) -> None:
        self._http.close()

    # -- writes -----------------------------------------------------------

    def register(self, user_id: int, nickname: str, key: str | None = None) -> Op:
        return self._write("user", {"user_id": user_id, "nickname": nickname}, key)

    def follow(self, follower_id: int, followee_id: int, key: str | None = None) -> Op:
        body = {"follower_id": follower_id, "followee_id": followee_id}
        return self._write("follow", body, key)

    def post(self, author_id: int, body: str, key: str | None = None) -> Op:
        return self._write("post", {"author_id": author_id, "body": body}, key)

    def comment(
        self, author_id: int, post_id: str, post_author_id: int, body: str, key: str | None = None
    ) -> Op:
        payload = {
            "author_id": author_id,
            "post_id": post_id,
            "post_author_id": post_author_id,
            "body": body,
        }
        return self._write("comment", payload, key)

    def like(self, user_id: int, post_id: str, post_author_id: int, key: str | None = None) -> Op:
        payload = {"user_id": user_id, "post_id": post_id, "post_author_id": post_author_id}
        return self._write("like", payload, key)

    def retry(self, op: Op) -> Op:
        """Send a write again, same body and same Idempotency-Key: the same event."""
        key = op.args.get("idempotency_key")
        if not key:
            raise ValueError(f"op {op.id} has no Idempotency-Key: a retry could duplicate it")
        body = {k: v for k, v in op.args.items() if k != "idempotency_key"}
        return self._write(op.kind, body, key)

    def _write(self, kind: str, body: dict[str, Any], key: str | None) -> Op:
        path = WRITE_PATHS[kind]
        headers = {"Idempotency-Key": key} if key else {}
        op = self.history.invoke(kind, {**body, "idempotency_key": key})
        try:
            resp = self._http.post(path, json=body, headers=headers)
        except httpx.HTTPError as exc:
            return History.complete(op, "info", None, None, f"{type(exc).__name__}: {exc}")
        data = _json_or_text(resp)
        if isinstance(data, dict) and "event_id" in data:
            op.event_id = data["event_id"]
        if resp.status_code == 202:
            outcome = "ok"
        elif 400 <= resp.status_code < 500:
            outcome = "fail"
        else:  # 5xx: the broker may or may not have it
            outcome = "info"
        return History.complete(op, outcome, resp.status_code, data)

    def raw(
        self, method: str, path: str, headers: dict[str, str], body: bytes, what: str = "raw"
    ) -> Op:
        """Any request at all (bad input): recorded with its own kind, never retried."""
        op = self.history.invoke(
            "raw",
            {
                "method": method,
                "path": path,
                "what": what,
                "headers": headers,
                "body": body[:300].decode("latin-1"),
            },
        )
        try:
            resp = self._http.request(method, path, headers=headers, content=body)
        except httpx.HTTPError as exc:
            return History.complete(op, "info", None, None, f"{type(exc).__name__}: {exc}")
        outcome = "ok" if resp.status_code < 400 else "fail" if resp.status_code < 500 else "info"
        return History.complete(op, outcome, resp.status_code, _json_or_text(resp))

    def healthy(self) -> bool:
        try:
            return self._http.get("/healthz").status_code == 200
        except httpx.HTTPError:
            return False

    # -- reads ------------------------------------------------------------

    def read_feed(self, user_id: int, limit: int = 20) -> Op:
        return self._read("read_feed", f"/v1/feed/{user_id}", {"user_id": user_id}, limit=limit)

    def read_view(self, user_id: int, view: str) -> Op:
        """view: posts, comments/sent, comments/received, likes/sent, likes/received."""
        return self._read(
            "read_view", f"/v1/users/{user_id}/{view}", {"user_id": user_id, "view": view}
        )

    def _read(self, kind: str, path: str, args: dict[str, Any], **params: Any) -> Op:
        op = self.history.invoke(kind, args)
        try:
            resp = self._http.get(path, params=params or None)
        except httpx.HTTPError as exc:
            return History.complete(op, "fail", None, None, f"{type(exc).__name__}: {exc}")
        outcome = "ok" if resp.status_code == 200 else "fail"
        return History.complete(op, outcome, resp.status_code, _json_or_text(resp))


def _json_or_text(resp: httpx.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        return resp.text[:500]
