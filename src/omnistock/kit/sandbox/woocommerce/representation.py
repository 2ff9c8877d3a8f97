"""The REST representation of products, variations, orders and webhooks, as WooCommerce serves it.

Dates come in pairs: site-local and `_gmt`, ISO 8601 without a zone, one-second resolution.
"""

from __future__ import annotations

from datetime import UTC, datetime

from omnistock.kit.sandbox.woocommerce.store import (
    Item,
    WooLineItem,
    WooOrder,
    WooProduct,
    WooStore,
    WooVariation,
)

Json = dict[str, object]


class Site:
    """Site-wide facts the representation needs: the URL and the timezone offset."""

    def __init__(self, base_url: str, utc_offset_s: int) -> None:
        self.base_url = base_url.rstrip("/")
        self.utc_offset_s = utc_offset_s

    def dates(self, prefix: str, epoch: int | None) -> Json:
        if epoch is None:
            return {prefix: None, f"{prefix}_gmt": None}
        return {prefix: _iso(epoch + self.utc_offset_s), f"{prefix}_gmt": _iso(epoch)}

    def api(self, path: str) -> str:
        return f"{self.base_url}/wp-json/wc/v3{path}"

    def links(self, path: str, collection: str) -> Json:
        return {"self": [{"href": self.api(path)}], "collection": [{"href": self.api(collection)}]}


def _iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _stock(store: WooStore, item: Item) -> Json:
    holder = store.stock_holder(item)
    source = holder if holder is not None else item
    backorders = source.backorders
    status = source.stock_status
    return {
        "manage_stock": store.manage_stock_view(item),
        "stock_quantity": source.stock_quantity if holder is not None else None,
        "stock_status": status,
        "backorders": backorders,
        "backorders_allowed": backorders != "no",
        "backordered": status == "onbackorder",
    }


def product_json(site: Site, store: WooStore, p: WooProduct) -> Json:
    slug = p.name.lower().replace(" ", "-")
    return {
        "id": p.id,
        "name": p.name,
        "slug": slug,
        "permalink": f"{site.base_url}/product/{slug}/",
        **site.dates("date_created", p.created),
        **site.dates("date_modified", p.modified),
        "type": p.type,
        "status": "publish",
        "sku": p.sku,
        "price": p.regular_price,
        "regular_price": p.regular_price,
        "sale_price": "",
        "purchasable": True,
        **_stock(store, p),
        "parent_id": 0,
        "variations": list(p.variation_ids),
        "meta_data": [],
        "_links": site.links(f"/products/{p.id}", "/products"),
    }


def variation_json(site: Site, store: WooStore, v: WooVariation) -> Json:
    parent = store.products[v.parent_id]
    return {
        "id": v.id,
        **site.dates("date_created", v.created),
        **site.dates("date_modified", v.modified),
        "description": "",
        "permalink": f"{site.base_url}/product/{parent.name.lower().replace(' ', '-')}/"
        f"?attribute_size={v.option}",
        "sku": v.sku,
        "price": v.regular_price,
        "regular_price": v.regular_price,
        "sale_price": "",
        "status": "publish",
        "purchasable": True,
        **_stock(store, v),
        "attributes": [{"id": 0, "name": "Size", "option": v.option}],
        "menu_order": 0,
        "meta_data": [],
        "_links": site.links(
            f"/products/{v.parent_id}/variations/{v.id}", f"/products/{v.parent_id}/variations"
        ),
    }


def item_json(site: Site, store: WooStore, item: Item) -> Json:
    """A product.updated payload. Core builds it with GET /wc/v3/products/{id}, and the
    products endpoint serves a variation in the product shape: `type` "variation" and its
    `parent_id` (class-wc-webhook.php, get_wp_api_payload)."""
    if isinstance(item, WooVariation):
        parent = store.products[item.parent_id]
        return {
            **variation_json(site, store, item),
            "name": f"{parent.name} - {item.option}",
            "type": "variation",
            "parent_id": item.parent_id,
        }
    return product_json(site, store, item)


def line_item_json(line: WooLineItem) -> Json:
    total = f"{float(line.price) * line.quantity:.2f}"
    return {
        "id": line.id,
        "name": line.name,
        "product_id": line.product_id,
        "variation_id": line.variation_id,
        "quantity": line.quantity,
        "tax_class": "",
        "subtotal": total,
        "subtotal_tax": "0.00",
        "total": total,
        "total_tax": "0.00",
        "taxes": [],
        "meta_data": [],
        "sku": line.sku,
        "price": line.price,
    }


def order_json(site: Site, order: WooOrder) -> Json:
    lines = [line_item_json(line) for line in order.line_items]
    total = sum(float(str(line["total"])) for line in lines)
    paid = order.created if order.status not in ("pending", "failed") else None
    return {
        "id": order.id,
        "parent_id": 0,
        "number": str(order.id),
        "order_key": f"wc_order_{order.id:08d}",
        "created_via": "checkout",
        "status": order.status,
        "currency": "USD",
        **site.dates("date_created", order.created),
        **site.dates("date_modified", order.modified),
        **site.dates("date_paid", paid),
        "total": f"{total:.2f}",
        "customer_id": 0,
        "line_items": lines,
        "meta_data": [],
        "_links": site.links(f"/orders/{order.id}", "/orders"),
    }
