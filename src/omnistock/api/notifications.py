"""Downstream subscriptions over HTTP and the live server-sent-events stream.

POST/GET/DELETE /v1/subscriptions (admin) manage signed webhooks; GET /v1/stream (read)
streams every notification as it is published, resuming after Last-Event-ID."""

from __future__ import annotations

from collections.abc import AsyncIterator

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from omnistock.api.common import ApiError, authorize, invalid_body, read_body
from omnistock.clock import Timer
from omnistock.domain.ids import check_identifier
from omnistock.ledger.notifications import Subscription, Topic
from omnistock.ledger.store import Store
from omnistock.security.tokens import Scope

POLL_S = 0.2
KEEP_ALIVE_S = 15.0


class SubscribeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    url: str = Field(max_length=2_000)
    topics: list[Topic] = Field(min_length=1)


def notification_routes(store: Store, timer: Timer) -> list[Route]:
    async def subscribe(request: Request) -> Response:
        await authorize(store, request, Scope.ADMIN)
        try:
            body = SubscribeRequest.model_validate_json(await read_body(request), strict=False)
        except ValidationError as exc:
            raise invalid_body(exc) from None
        sub, secret = await store.notifications.subscribe(body.url, frozenset(body.topics))
        return JSONResponse({**_json(sub), "secret": secret}, status_code=201)

    async def listing(request: Request) -> Response:
        await authorize(store, request, Scope.ADMIN)
        return JSONResponse([_json(s) for s in await store.notifications.subscriptions()])

    async def unsubscribe(request: Request) -> Response:
        await authorize(store, request, Scope.ADMIN)
        sid = check_identifier("subscription", request.path_params["sid"])
        if not await store.notifications.unsubscribe(sid):
            raise ApiError(404, "unknown_subscription", f"no active subscription {sid!r}")
        return Response(status_code=204)

    async def stream(request: Request) -> Response:
        await authorize(store, request, Scope.READ)
        topics = _topics(request)
        resume = request.headers.get("last-event-id", "")
        start = int(resume) if resume.isdigit() else await store.notifications.last_id()
        events = _events(store, timer, request, topics, start)
        return StreamingResponse(
            events, media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )

    return [
        Route("/v1/subscriptions", subscribe, methods=["POST"]),
        Route("/v1/subscriptions", listing, methods=["GET"]),
        Route("/v1/subscriptions/{sid}", unsubscribe, methods=["DELETE"]),
        Route("/v1/stream", stream, methods=["GET"]),
    ]


def _topics(request: Request) -> frozenset[Topic]:
    names = request.query_params.getlist("topic")
    try:
        return frozenset(Topic(n) for n in names) if names else frozenset(Topic)
    except ValueError:
        raise ApiError(422, "invalid_query", f"topics are {[t.value for t in Topic]}") from None


async def _events(
    store: Store, timer: Timer, request: Request, topics: frozenset[Topic], last: int
) -> AsyncIterator[str]:
    quiet = 0.0
    while not await request.is_disconnected():
        batch = await store.notifications.after(last)
        for notification in batch:
            last = notification.id
            if notification.topic in topics:
                yield f"id: {last}\nevent: {notification.topic}\ndata: {notification.payload}\n\n"
        if batch:
            quiet = 0.0
            continue
        await timer.sleep(POLL_S)
        quiet += POLL_S
        if quiet >= KEEP_ALIVE_S:  # a comment keeps proxies from closing an idle stream
            quiet = 0.0
            yield ": keep-alive\n\n"


def _json(sub: Subscription) -> dict[str, object]:
    return {"id": sub.id, "url": sub.url, "topics": sorted(sub.topics), "active": sub.active}
