"""The aiohttp application: routes, JSON errors everywhere, lifecycle of clients."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from system_under_test.api import reads
from system_under_test.api.errors import DependencyFailed, error_response
from system_under_test.api.writes import WRITE_ROUTES, make_write_handler
from system_under_test.config import Settings
from system_under_test.messaging.publisher import ConfirmingPublisher

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """aiohttp's own 404/405/413 and our dependency failures, all as JSON."""
    try:
        return await handler(request)
    except DependencyFailed as exc:
        return exc.response()
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return error_response(exc.status, exc.reason.lower().replace(" ", "_"), exc.reason)


def _positive_int(request: web.Request, name: str) -> int:
    raw = request.match_info[name]
    if not raw.isascii() or not raw.isdigit() or not 0 < int(raw) < 2**63:
        raise web.HTTPBadRequest(reason=f"{name} must be a positive integer")
    return int(raw)


async def get_feed(request: web.Request) -> web.Response:
    user_id = _positive_int(request, "user_id")
    raw_limit = request.query.get("limit", "20")
    if not raw_limit.isascii() or not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 100:
        return error_response(400, "bad_limit", "limit must be an integer in 1..100")
    settings: Settings = request.app["settings"]
    feed = await reads.read_feed(
        request.app["rpc"], user_id, int(raw_limit), settings.read_budget_s
    )
    return web.json_response(feed)


async def get_user_posts(request: web.Request) -> web.Response:
    user_id = _positive_int(request, "user_id")
    settings: Settings = request.app["settings"]
    return web.json_response(
        await reads.read_user_posts(request.app["rpc"], user_id, settings.read_budget_s)
    )


async def get_activity(request: web.Request) -> web.Response:
    user_id = _positive_int(request, "user_id")
    kind = reads.ACTIVITY_KINDS.get((request.match_info["what"], request.match_info["side"]))
    if kind is None:
        raise web.HTTPNotFound(reason="Not Found")
    settings: Settings = request.app["settings"]
    return web.json_response(
        await reads.read_activity(request.app["rpc"], user_id, kind, settings.read_budget_s)
    )


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _lifecycle(app: web.Application) -> object:
    settings: Settings = app["settings"]
    app["rpc"] = reads.RpcClients.connect(
        settings.feed_rpc_addr, settings.card_rpc_addr, settings.user_rpc_addr
    )
    publisher = ConfirmingPublisher(
        settings.amqp_url, settings.publish_timeout_s, settings.delivery_limit, settings.park_s
    )
    app["publisher"] = publisher
    await publisher.connect_early()
    yield
    await publisher.close()
    await app["rpc"].close()


def make_app(settings: Settings) -> web.Application:
    app = web.Application(middlewares=[json_errors], client_max_size=MAX_BODY_BYTES)
    app["settings"] = settings
    app.cleanup_ctx.append(_lifecycle)
    for path, (event_type, model) in WRITE_ROUTES.items():
        app.router.add_post(path, make_write_handler(event_type, model))
    app.router.add_get("/v1/feed/{user_id}", get_feed)
    app.router.add_get("/v1/users/{user_id}/posts", get_user_posts)
    app.router.add_get("/v1/users/{user_id}/{what}/{side}", get_activity)
    app.router.add_get("/healthz", healthz)
    return app
