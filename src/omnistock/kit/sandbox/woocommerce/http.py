"""Request plumbing shared by the WooCommerce endpoints: auth guard, JSON bodies, pagination.

Every endpoint answers errors in WooCommerce's `{"code","message","data"}` shape.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from omnistock.kit.sandbox.common.core import ITEMS_STATE_KEY
from omnistock.kit.sandbox.woocommerce.auth import AuthRequest, WooAuthenticator
from omnistock.kit.sandbox.woocommerce.errors import WooApiError, invalid_id
from omnistock.kit.sandbox.woocommerce.validation import as_page, json_object

API_PREFIX = "/wp-json/wc/v3"
Handler = Callable[[Request], Awaitable[Response]]
T = TypeVar("T")

_OPERATIONS = {
    ("GET", "/products"): "products.list",
    ("GET", "/products/{id}"): "products.get",
    ("PUT", "/products/{id}"): "products.update",
    ("POST", "/products/batch"): "products.batch",
    ("GET", "/products/{id}/variations"): "variations.list",
    ("GET", "/products/{id}/variations/{id}"): "variations.get",
    ("PUT", "/products/{id}/variations/{id}"): "variations.update",
    ("POST", "/products/{id}/variations/batch"): "variations.batch",
    ("GET", "/orders"): "orders.list",
    ("GET", "/orders/{id}"): "orders.get",
    ("PUT", "/orders/{id}"): "orders.update",
    ("GET", "/webhooks"): "webhooks.list",
    ("POST", "/webhooks"): "webhooks.create",
    ("GET", "/webhooks/{id}"): "webhooks.get",
    ("PUT", "/webhooks/{id}"): "webhooks.update",
    ("DELETE", "/webhooks/{id}"): "webhooks.delete",
}


def operation_of(method: str, path: str) -> str:
    """Pure: the call-log name of a request, e.g. PUT /products/12 -> products.update."""
    template = re.sub(r"/\d+(?=/|$)", "/{id}", path.removeprefix(API_PREFIX))
    return _OPERATIONS.get((method.upper(), template), f"{method.upper()} {path}")


def auth_request(request: Request) -> AuthRequest:
    url = request.url
    return AuthRequest(
        method=request.method,
        url=f"{url.scheme}://{url.netloc}{url.path}",
        https=url.scheme == "https",
        query=request.query_params.multi_items(),
        authorization=request.headers.get("authorization"),
    )


def guarded(auth: WooAuthenticator, handler: Handler) -> Handler:
    """Authenticate, run the handler, and render any WooApiError it raises."""

    async def endpoint(request: Request) -> Response:
        try:
            auth.authenticate(auth_request(request))
            return await handler(request)
        except WooApiError as err:
            return err.response()

    return endpoint


async def json_body(request: Request) -> Mapping[str, object]:
    try:
        return json_object(json.loads(await request.body() or b"{}"))
    except json.JSONDecodeError as exc:
        raise WooApiError(400, "rest_invalid_json", "Invalid JSON body passed.") from exc


def path_id(request: Request, name: str, resource: str) -> int:
    raw = str(request.path_params[name])
    if not raw.isdigit():
        raise invalid_id(resource)
    return int(raw)


def count_items(request: Request, items: int) -> None:
    request.scope.setdefault("state", {})[ITEMS_STATE_KEY] = items


def paginate(request: Request, items: Sequence[T]) -> tuple[Sequence[T], dict[str, str]]:
    """Slice by `page`/`per_page` (default 10, max 100) and build X-WP-Total* and Link."""
    page = as_page("page", request.query_params.get("page"), default=1)
    per_page = as_page("per_page", request.query_params.get("per_page"), default=10, maximum=100)
    pages = math.ceil(len(items) / per_page)
    headers = {"X-WP-Total": str(len(items)), "X-WP-TotalPages": str(pages)}
    links = _links(request, page, pages)
    if links:
        headers["Link"] = ", ".join(links)
    return items[(page - 1) * per_page : page * per_page], headers


def _links(request: Request, page: int, pages: int) -> list[str]:
    links = []
    if 1 < page <= pages + 1:
        links.append(f'<{request.url.include_query_params(page=page - 1)}>; rel="prev"')
    if page < pages:
        links.append(f'<{request.url.include_query_params(page=page + 1)}>; rel="next"')
    return links


def listing(request: Request, items: Sequence[T], render: Callable[[T], object]) -> Response:
    page, headers = paginate(request, items)
    count_items(request, len(page))
    return JSONResponse([render(item) for item in page], headers=headers)
