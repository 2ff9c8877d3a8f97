"""Listing discovery on WooCommerce: every product, and every variation of each variable
product, one REST page per `discover` call, behind a cursor that survives a restart.

Pure apart from `discover_page`, which reads through the adapter's `fetch` (its limiter and
error table). A product is keyed by its id, a variation by `product:variation`.

Stock management: a product or variation is managed when `manage_stock` is true. A
variation answering `manage_stock: "parent"` has no stock of its own (it sells the parent's
units), so it is discovered as unmanaged and its parent product, which is managed, is the
listing omnistock may write (writing the variation would not change what shoppers see)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from omnistock.adapters.base import DiscoveredListing, DiscoveryPage
from omnistock.adapters.woocommerce.wire import PER_PAGE, PRODUCT_ID, VARIATION_ID
from omnistock.domain.errors import PermanentError

CURSOR_VERSION = 1
MAX_TITLE = 120  # parent names carried in the cursor are cut to this

# (path, params) -> (JSON payload, X-WP-Total, X-WP-TotalPages); raises ChannelError.
Fetch = Callable[[str, Mapping[str, str]], Awaitable[tuple[object, int | None, int | None]]]


class InvalidCursorError(ValueError):
    """A cursor this adapter did not issue (or from an incompatible version)."""


class _Row(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    id: int
    name: str = ""
    type: str = "simple"
    sku: str | None = None
    manage_stock: bool | str | None = None
    stock_quantity: int | None = None
    attributes: list[dict[str, object]] = []
    variations: list[int] = []


_ROWS = TypeAdapter(list[_Row])


@dataclass(frozen=True, slots=True)
class Parent:
    id: int
    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Cursor:
    """Where discovery stands: the next products page, and the variable products of the
    pages read whose variations are still to read (the first at `variations_page`)."""

    page: int = 1
    pages: int | None = None  # products pages, as the site last said
    parents: tuple[Parent, ...] = ()
    variations_page: int = 1
    total: int | None = None  # products the site counts, plus the variations seen so far
    extra: int = 0  # variations seen so far (in `variations` lists of products read)

    @property
    def finished(self) -> bool:
        return not self.parents and self.pages is not None and self.page > self.pages

    def encode(self) -> str:
        data = {
            "v": CURSOR_VERSION,
            "page": self.page,
            "pages": self.pages,
            "parents": [[p.id, p.name] for p in self.parents],
            "vpage": self.variations_page,
            "total": self.total,
            "extra": self.extra,
        }
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        return base64.urlsafe_b64encode(text.encode()).decode()

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            data = json.loads(base64.urlsafe_b64decode(text.encode()))
            if data["v"] != CURSOR_VERSION:
                raise InvalidCursorError(f"cursor version {data['v']} is not {CURSOR_VERSION}")
            return cls(
                page=_positive(data["page"]),
                pages=None if data["pages"] is None else int(data["pages"]),
                parents=tuple(Parent(_positive(i), str(n)) for i, n in data["parents"]),
                variations_page=_positive(data["vpage"]),
                total=None if data["total"] is None else int(data["total"]),
                extra=int(data["extra"]),
            )
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            if isinstance(exc, InvalidCursorError):
                raise
            raise InvalidCursorError("not a WooCommerce discovery cursor") from None


def _positive(value: object) -> int:
    if not isinstance(value, int) or value < 1:
        raise ValueError("must be a positive integer")
    return value


def query(page: int) -> dict[str, str]:
    """Oldest first by id: products created during a run land on later pages."""
    return {"per_page": str(PER_PAGE), "page": str(page), "orderby": "id", "order": "asc"}


def parse_rows(payload: object) -> list[_Row]:
    try:
        return _ROWS.validate_python(payload)
    except ValidationError as exc:
        raise ValueError(f"not a list of products: {exc.error_count()} errors") from None


def product_listing(row: _Row) -> DiscoveredListing:
    managed = row.manage_stock is True
    return DiscoveredListing(
        key=str(row.id),
        sku=row.sku or None,
        external_ids={PRODUCT_ID: str(row.id)},
        managed=managed,
        quantity=row.stock_quantity if managed else None,
        title=row.name,
    )


def variation_listing(parent: Parent, row: _Row) -> DiscoveredListing:
    managed = row.manage_stock is True  # "parent": the parent's stock, see the docstring
    options = ", ".join(str(a.get("option", "")) for a in row.attributes)
    return DiscoveredListing(
        key=f"{parent.id}:{row.id}",
        sku=row.sku or None,
        external_ids={PRODUCT_ID: str(parent.id), VARIATION_ID: str(row.id)},
        managed=managed,
        quantity=row.stock_quantity if managed else None,
        title=f"{parent.name} - {options}" if options else parent.name,
    )


def after_products(
    cursor: Cursor, rows: Sequence[_Row], total: int | None, pages: int | None
) -> tuple[tuple[DiscoveredListing, ...], Cursor]:
    """The listings of one products page and the cursor after it."""
    variable = tuple(Parent(r.id, r.name[:MAX_TITLE]) for r in rows if r.type == "variable")
    extra = cursor.extra + sum(len(r.variations) for r in rows if r.type == "variable")
    known_pages = pages if pages is not None else (cursor.page if len(rows) < PER_PAGE else None)
    return tuple(product_listing(r) for r in rows), replace(
        cursor,
        page=cursor.page + 1,
        pages=known_pages if known_pages is not None else cursor.pages,
        parents=variable,
        variations_page=1,
        total=None if total is None else total + extra,
        extra=extra,
    )


def after_variations(
    cursor: Cursor, rows: Sequence[_Row], pages: int | None
) -> tuple[tuple[DiscoveredListing, ...], Cursor]:
    """The listings of one variations page (of the cursor's first parent) and the next cursor."""
    parent = cursor.parents[0]
    more = len(rows) == PER_PAGE if pages is None else cursor.variations_page < pages
    more = more and bool(rows)
    found = tuple(variation_listing(parent, r) for r in rows)
    if more:
        return found, replace(cursor, variations_page=cursor.variations_page + 1)
    return found, replace(cursor, parents=cursor.parents[1:], variations_page=1)


async def discover_page(fetch: Fetch, cursor: str | None) -> DiscoveryPage:
    """One request's listings: the first pending parent's variations, else the next
    products page. Raises InvalidCursorError, ChannelError, or ValueError on a bad answer."""
    state = Cursor.decode(cursor) if cursor else Cursor()
    if state.parents:
        parent = state.parents[0]
        path = f"products/{parent.id}/variations"
        try:
            payload, _total, pages = await fetch(path, query(state.variations_page))
        except PermanentError as error:
            if error.status != 404:
                raise
            payload, pages = [], 0  # the product was deleted since its page was read
        found, after = after_variations(state, parse_rows(payload), pages)
    else:
        payload, total, pages = await fetch("products", query(state.page))
        found, after = after_products(state, parse_rows(payload), total, pages)
    return DiscoveryPage(
        listings=found,
        cursor=None if after.finished else after.encode(),
        total=after.total,
    )
