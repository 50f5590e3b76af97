"""The workload client: the Feed API over HTTP, every call recorded in a History."""

from __future__ import annotations

from typing import Any

import httpx

from suites.history import History, Op

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
        return self._write("user", "/v1/users", {"user_id": user_id, "nickname": nickname}, key)

    def follow(self, follower_id: int, followee_id: int, key: str | None = None) -> Op:
        body = {"follower_id": follower_id, "followee_id": followee_id}
        return self._write("follow", "/v1/follows", body, key)

    def post(self, author_id: int, body: str, key: str | None = None) -> Op:
        return self._write("post", "/v1/posts", {"author_id": author_id, "body": body}, key)

    def comment(
        self, author_id: int, post_id: str, post_author_id: int, body: str, key: str | None = None
    ) -> Op:
        payload = {
            "author_id": author_id,
            "post_id": post_id,
            "post_author_id": post_author_id,
            "body": body,
        }
        return self._write("comment", "/v1/comments", payload, key)

    def like(self, user_id: int, post_id: str, post_author_id: int, key: str | None = None) -> Op:
        payload = {"user_id": user_id, "post_id": post_id, "post_author_id": post_author_id}
        return self._write("like", "/v1/likes", payload, key)

    def _write(self, kind: str, path: str, body: dict[str, Any], key: str | None) -> Op:
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
