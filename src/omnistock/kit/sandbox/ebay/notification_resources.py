"""Notification API v1, reading and managing what notifications.py creates: the config,
destinations (list, get, update, delete) and subscriptions (list, get, delete, enable,
disable), over the same `Notifications` that delivers, with the spec's error ids."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from omnistock.kit.sandbox.ebay.errors import (
    CHALLENGE_FAILED,
    CONFIG_NOT_FOUND,
    DESTINATION_IN_USE,
    DESTINATION_NOT_ENABLED,
    DESTINATION_NOT_FOUND,
    DESTINATION_STATUS_INVALID,
    LIMIT_INVALID,
    SUBSCRIPTION_UNKNOWN,
    error_response,
)
from omnistock.kit.sandbox.ebay.notifications import Destination, Notifications, Subscription
from omnistock.kit.sandbox.ebay.quota import iso

T = TypeVar("T")
PAYLOAD = {"format": "JSON", "schemaVersion": "1.0", "deliveryProtocol": "HTTPS"}


def destination_json(dest: Destination) -> dict[str, object]:
    # The spec file types deliveryConfig as a string; eBay answers the object it was given.
    return {
        "destinationId": dest.destination_id,
        "name": dest.name,
        "status": dest.status,
        "deliveryConfig": {"endpoint": dest.endpoint, "verificationToken": dest.verification_token},
    }


def subscription_json(sub: Subscription) -> dict[str, object]:
    return {
        "subscriptionId": sub.subscription_id,
        "topicId": sub.topic,
        "status": sub.status,
        "creationDate": iso(sub.created),
        "payload": dict(PAYLOAD),
        "destinationId": sub.destination_id,
    }


def _page(request: Request, items: Sequence[T]) -> tuple[list[T], dict[str, object]] | Response:
    """`limit` (10-100, default 20) and `continuation_token` (the sandbox's: an offset)."""
    raw_limit = request.query_params.get("limit", "20")
    token = request.query_params.get("continuation_token", "0")
    if not raw_limit.isdigit() or not 10 <= int(raw_limit) <= 100 or not token.isdigit():
        return error_response(LIMIT_INVALID)
    limit, start = int(raw_limit), int(token)
    page = list(items[start : start + limit])
    meta: dict[str, object] = {"total": len(items), "href": str(request.url), "limit": limit}
    if start + limit < len(items):
        meta["next"] = str(request.url.include_query_params(continuation_token=start + limit))
    return page, meta


class NotificationResources:
    """Handlers for the Notification API's reads, updates and deletions."""

    def __init__(self, notifications: Notifications) -> None:
        self._n = notifications

    async def get_config(self, request: Request) -> Response:
        if self._n.alert_email is None:
            return error_response(CONFIG_NOT_FOUND)
        return JSONResponse({"alertEmail": self._n.alert_email})

    async def list_destinations(self, request: Request) -> Response:
        paged = _page(request, list(self._n.destinations.values()))
        if isinstance(paged, Response):
            return paged
        page, meta = paged
        return JSONResponse({**meta, "destinations": [destination_json(d) for d in page]})

    async def get_destination(self, request: Request) -> Response:
        dest = self._n.destinations.get(request.path_params["destination_id"])
        if dest is None:
            return error_response(DESTINATION_NOT_FOUND)
        return JSONResponse(destination_json(dest))

    async def update_destination(self, request: Request) -> Response:
        """Name and status; a new endpoint or token is proved by the challenge again."""
        dest = self._n.destinations.get(request.path_params["destination_id"])
        if dest is None:
            return error_response(DESTINATION_NOT_FOUND)
        body = await request.json()
        status = body.get("status") if isinstance(body, dict) else None
        if status not in ("ENABLED", "DISABLED"):
            return error_response(DESTINATION_STATUS_INVALID)
        config = body.get("deliveryConfig") or {}
        endpoint = str(config.get("endpoint") or dest.endpoint)
        token = str(config.get("verificationToken") or dest.verification_token)
        changed = (endpoint, token) != (dest.endpoint, dest.verification_token)
        if changed and not await self._n.challenge(endpoint, token):
            return error_response(CHALLENGE_FAILED)
        dest.name = str(body.get("name") or dest.name)
        dest.status, dest.endpoint, dest.verification_token = str(status), endpoint, token
        return Response(status_code=204)

    async def delete_destination(self, request: Request) -> Response:
        dest_id = request.path_params["destination_id"]
        if dest_id not in self._n.destinations:
            return error_response(DESTINATION_NOT_FOUND)
        if any(s.destination_id == dest_id for s in self._n.subscriptions.values()):
            return error_response(DESTINATION_IN_USE)
        del self._n.destinations[dest_id]
        return Response(status_code=204)

    async def list_subscriptions(self, request: Request) -> Response:
        paged = _page(request, list(self._n.subscriptions.values()))
        if isinstance(paged, Response):
            return paged
        page, meta = paged
        return JSONResponse({**meta, "subscriptions": [subscription_json(s) for s in page]})

    def _subscription(self, request: Request) -> Subscription | None:
        return self._n.subscriptions.get(request.path_params["subscription_id"])

    async def get_subscription(self, request: Request) -> Response:
        sub = self._subscription(request)
        if sub is None:
            return error_response(SUBSCRIPTION_UNKNOWN)
        return JSONResponse(subscription_json(sub))

    async def delete_subscription(self, request: Request) -> Response:
        sub = self._subscription(request)
        if sub is None:
            return error_response(SUBSCRIPTION_UNKNOWN)
        del self._n.subscriptions[sub.subscription_id]
        return Response(status_code=204)

    async def enable_subscription(self, request: Request) -> Response:
        sub = self._subscription(request)
        if sub is None:
            return error_response(SUBSCRIPTION_UNKNOWN)
        dest = self._n.destinations.get(sub.destination_id)
        if dest is None or dest.status != "ENABLED":
            return error_response(DESTINATION_NOT_ENABLED)
        sub.status = "ENABLED"
        return Response(status_code=204)

    async def disable_subscription(self, request: Request) -> Response:
        sub = self._subscription(request)
        if sub is None:
            return error_response(SUBSCRIPTION_UNKNOWN)
        sub.status = "DISABLED"
        return Response(status_code=204)
