"""Webhook subscriptions: create (with the activation ping), list, read, update, delete.

Core's REST controller sends the ping and keeps the webhook even when the ping fails.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from omnistock.kit.sandbox.woocommerce.errors import WooApiError, invalid_id
from omnistock.kit.sandbox.woocommerce.hooks import WooWebhook, WooWebhooks, valid_topic
from omnistock.kit.sandbox.woocommerce.http import count_items, json_body, listing, path_id
from omnistock.kit.sandbox.woocommerce.representation import Json, Site
from omnistock.kit.sandbox.woocommerce.validation import as_boolean, as_enum, as_string

STATUSES = ("active", "paused", "disabled")


def parse_topic(body: Mapping[str, object]) -> str:
    topic = body.get("topic")
    if not isinstance(topic, str) or not valid_topic(topic):
        raise WooApiError(
            400,
            "woocommerce_rest_webhook_invalid_topic",
            "Webhook topic is required and must be valid.",
        )
    return topic


def parse_url(body: Mapping[str, object]) -> str:
    url = body.get("delivery_url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise WooApiError(
            400,
            "woocommerce_rest_webhook_invalid_delivery_url",
            "Webhook delivery URL must be a valid URL starting with http:// or https://.",
        )
    return url


def default_secret(name: str) -> str:
    # Core defaults to a hash of the current user; the sandbox has one API user.
    return hashlib.md5(f"1|{name}".encode(), usedforsecurity=False).hexdigest()


class WebhooksApi:
    """Handlers for /webhooks."""

    def __init__(self, webhooks: WooWebhooks, site: Site) -> None:
        self._webhooks = webhooks
        self._site = site

    def _json(self, hook: WooWebhook) -> Json:
        return hook.to_json(self._site)

    def _hook(self, request: Request) -> WooWebhook:
        hook = self._webhooks.hooks.get(path_id(request, "webhook_id", "webhook"))
        if hook is None:
            raise invalid_id("webhook")
        return hook

    async def create(self, request: Request) -> Response:
        body = await json_body(request)
        topic, url = parse_topic(body), parse_url(body)
        name = as_string("name", body.get("name", f"Webhook created via REST ({topic})"))
        hook = self._webhooks.create(
            name=name,
            topic=topic,
            url=url,
            secret=as_string("secret", body.get("secret", default_secret(name))),
            status=as_enum("status", body.get("status", "active"), STATUSES),
        )
        if hook.status == "active":
            await self._webhooks.ping(hook)
        count_items(request, 1)
        return JSONResponse(self._json(hook), status_code=201)

    async def list_hooks(self, request: Request) -> Response:
        hooks = sorted(self._webhooks.hooks.values(), key=lambda h: h.id, reverse=True)
        wanted = request.query_params.get("status", "all")
        hooks = [h for h in hooks if wanted in ("all", h.status)]
        return listing(request, hooks, self._json)

    async def get(self, request: Request) -> Response:
        count_items(request, 1)
        return JSONResponse(self._json(self._hook(request)))

    async def update(self, request: Request) -> Response:
        hook, body = self._hook(request), await json_body(request)
        if "topic" in body:
            hook.topic = parse_topic(body)
        if "delivery_url" in body:
            hook.delivery_url = parse_url(body)
        hook.name = as_string("name", body.get("name", hook.name))
        hook.secret = as_string("secret", body.get("secret", hook.secret))
        status = as_enum("status", body.get("status", hook.status), STATUSES)
        if status == "active" and hook.status != "active":
            hook.failure_count = 0  # re-enabling starts a fresh count (uncertain in core)
        hook.status = status
        hook.modified = self._webhooks.now()
        count_items(request, 1)
        return JSONResponse(self._json(hook))

    async def delete(self, request: Request) -> Response:
        hook = self._hook(request)
        if not as_boolean("force", request.query_params.get("force", "false")):
            raise WooApiError(
                501, "woocommerce_rest_trash_not_supported", "Webhooks do not support trashing."
            )
        del self._webhooks.hooks[hook.id]
        count_items(request, 1)
        return JSONResponse(self._json(hook))
