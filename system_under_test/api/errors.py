"""Every error answer is JSON with an `error` code; dependency failures name the dependency."""

from __future__ import annotations

from aiohttp import web


def error_response(status: int, error: str, detail: str, **extra: object) -> web.Response:
    return web.json_response({"error": error, "detail": detail, **extra}, status=status)


class DependencyFailed(Exception):
    """A read dependency failed: 503 when it refused or broke, 504 when it ran out of time."""

    def __init__(self, dependency: str, timed_out: bool, detail: str) -> None:
        super().__init__(f"{dependency}: {detail}")
        self.dependency = dependency
        self.timed_out = timed_out
        self.detail = detail

    def response(self) -> web.Response:
        if self.timed_out:
            return error_response(
                504, "dependency_timeout", self.detail, dependency=self.dependency
            )
        return error_response(
            503, "dependency_unavailable", self.detail, dependency=self.dependency
        )
