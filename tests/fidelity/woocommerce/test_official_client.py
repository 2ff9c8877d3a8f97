"""The WooCommerce sandbox answers the platform's own Python client (`woocommerce` 3.0.0,
by Automattic) as a real site does: OAuth 1.0a over plain HTTP, exactly as its README shows
(`API(url=…, consumer_key=…, consumer_secret=…, version="wc/v3")`), with a wrong secret
refused the way WooCommerce core refuses it.

The client calls `requests` synchronously, so the sandbox is served by uvicorn on a loop of
its own thread."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from woocommerce import API  # type: ignore[import-untyped]  # ships no types

from omnistock.kit.sandbox.woocommerce import WooConfig, WooSandbox
from tests.serving import served_on_a_thread


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[WooSandbox, str]]:
    sandbox = WooSandbox(WooConfig(seed=4, skus=30, variant_share=0.2))
    with served_on_a_thread(sandbox.app) as url:
        yield sandbox, url


def _client(sandbox: WooSandbox, url: str, secret: str | None = None) -> API:
    creds = sandbox.credentials()
    return API(
        url=url,
        consumer_key=creds["consumer_key"],
        consumer_secret=secret or creds["consumer_secret"],
        version="wc/v3",
        timeout=10,
    )


def test_the_readme_s_request_is_answered_over_http_with_oauth(
    site: tuple[WooSandbox, str],
) -> None:
    sandbox, url = site
    answer = _client(sandbox, url).get("products", params={"per_page": 20})
    assert answer.status_code == 200, answer.text
    products = answer.json()
    assert len(products) == 20
    assert answer.headers["X-WP-Total"] == str(len(sandbox.store.products))


def test_every_page_and_a_single_product_are_answered(site: tuple[WooSandbox, str]) -> None:
    sandbox, url = site
    client = _client(sandbox, url)
    seen = []
    for page in (1, 2):
        answer = client.get("products", params={"per_page": 20, "page": page})
        assert answer.status_code == 200, answer.text
        seen += [p["id"] for p in answer.json()]
    assert sorted(seen) == sorted(sandbox.store.products)
    one = client.get(f"products/{seen[0]}")
    assert (one.status_code, one.json()["id"]) == (200, seen[0])


def test_a_wrong_secret_is_refused_as_core_refuses_it(site: tuple[WooSandbox, str]) -> None:
    sandbox, url = site
    answer = _client(sandbox, url, secret="cs_wrong").get("products")  # noqa: S106 - not one
    assert answer.status_code == 401
    assert answer.json()["code"] == "woocommerce_rest_authentication_error"
    assert answer.json()["message"] == "Invalid Signature - provided signature does not match."
