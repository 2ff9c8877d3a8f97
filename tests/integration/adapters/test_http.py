"""The account client against a real server on a loopback port (Starlette under uvicorn)
that can hang, reset the connection, or answer 429/503 with Retry-After in both forms.

Checks that timeouts are enforced, failures become TransientError without credentials,
and logged URLs lose their query strings. Retry-After parsing is covered here too."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from omnistock.adapters.http import (
    DEFAULT_TIMEOUT,
    account_client,
    retry_after_seconds,
    safe_url,
    translate_transport_error,
    translated_transport_errors,
)
from omnistock.domain.errors import RateLimitedError, TransientError

SECRET = "cs_0123456789abcdef"  # noqa: S105 - a made-up credential to look for
HTTP_DATE = "Wed, 21 Oct 2015 07:28:00 GMT"
ONE_MINUTE_BEFORE = datetime(2015, 10, 21, 7, 27, tzinfo=UTC)
SHORT = httpx.Timeout(0.3)


class ResetApp:
    """Promises 100 bytes, sends 5, then fails: uvicorn drops the connection mid-body."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-length", b"100")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"hello", "more_body": True})
        raise ConnectionResetError("simulated reset")


class FlakyServer:
    def __init__(self) -> None:
        self.release = asyncio.Event()  # lets hanging handlers finish at teardown

    async def echo(self, request: Request) -> Response:
        return JSONResponse(
            {"user-agent": request.headers.get("user-agent"), **request.query_params}
        )

    async def hang(self, request: Request) -> Response:
        await self.release.wait()
        return PlainTextResponse("late")

    async def throttle(self, request: Request) -> Response:
        status = int(request.path_params["status"])
        retry_after = HTTP_DATE if request.query_params.get("form") == "date" else "7"
        return PlainTextResponse(
            "slow down", status_code=status, headers={"Retry-After": retry_after}
        )

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/echo", self.echo),
                Route("/hang", self.hang),
                Route("/reset", ResetApp()),
                Route("/throttle/{status}", self.throttle),
            ]
        )


@pytest.fixture
async def server() -> AsyncIterator[tuple[FlakyServer, str]]:
    flaky = FlakyServer()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(flaky.app(), log_level="critical", lifespan="off", access_log=False)
    config.timeout_graceful_shutdown = 2
    uv = uvicorn.Server(config)
    task = asyncio.create_task(uv.serve(sockets=[sock]))
    while not uv.started:  # noqa: ASYNC110 - uvicorn exposes only a flag
        await asyncio.sleep(0.01)
    yield flaky, f"http://127.0.0.1:{sock.getsockname()[1]}"
    flaky.release.set()
    uv.should_exit = True
    await task


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens here any more: connecting is refused


def assert_clean(error: TransientError) -> None:
    text = f"{error} {error!r} {error.args}"
    assert SECRET not in text
    assert "consumer_secret" not in text


async def test_client_sends_defaults_and_given_headers(server: tuple[FlakyServer, str]) -> None:
    _, base_url = server
    async with account_client(base_url, headers={"x-extra": "1"}) as client:
        response = await client.get("/echo", params={"a": "b"})
        assert response.json() == {"user-agent": "omnistock/0.1", "a": "b"}
        assert client.headers["x-extra"] == "1"
        assert client.timeout == DEFAULT_TIMEOUT
        assert not client.follow_redirects
    async with account_client(base_url, headers={"User-Agent": "mine"}) as client:
        assert client.headers.get_list("user-agent") == ["mine"]


async def test_read_timeout_is_enforced_and_translated(server: tuple[FlakyServer, str]) -> None:
    _, base_url = server
    async with account_client(base_url, timeout=SHORT) as client:
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout) as caught:
            await client.get("/hang", params={"consumer_secret": SECRET})
        elapsed = time.monotonic() - started
    assert 0.25 <= elapsed < 2.0
    error = translate_transport_error(caught.value, account="woo-1")
    assert type(error) is TransientError
    assert str(error) == f"woo-1: read timed out on GET {base_url}/hang"
    assert_clean(error)


async def test_pool_timeout_bounds_waiting_for_a_connection(
    server: tuple[FlakyServer, str],
) -> None:
    flaky, base_url = server
    timeout = httpx.Timeout(5.0, pool=0.2)
    async with account_client(base_url, timeout=timeout, max_connections=1) as client:
        hanging = asyncio.create_task(client.get("/hang"))
        await asyncio.sleep(0.1)  # the only connection is now taken
        started = time.monotonic()
        with (
            pytest.raises(TransientError, match="timed out waiting for a pooled connection"),
            translated_transport_errors("woo-1"),
        ):
            await client.get("/echo")
        assert time.monotonic() - started < 1.5
        flaky.release.set()
        assert (await hanging).text == "late"


async def test_connection_reset_is_transient(server: tuple[FlakyServer, str]) -> None:
    _, base_url = server
    async with account_client(base_url, timeout=SHORT) as client:
        with pytest.raises(TransientError) as caught, translated_transport_errors("woo-1"):
            await client.get("/reset", params={"consumer_secret": SECRET})
    assert str(caught.value) == (
        f"woo-1: connection closed by the server mid-exchange on GET {base_url}/reset"
    )
    assert isinstance(caught.value.__cause__, httpx.RemoteProtocolError)
    assert_clean(caught.value)


async def test_refused_connection_is_transient_and_hides_userinfo(closed_port: int) -> None:
    base_url = f"http://ck_key:{SECRET}@127.0.0.1:{closed_port}"
    async with account_client(base_url, timeout=SHORT) as client:
        with pytest.raises(httpx.ConnectError) as caught:
            await client.post("/products/batch", params={"consumer_secret": SECRET})
    error = translate_transport_error(caught.value, account="woo-1")
    assert str(error) == (
        f"woo-1: could not connect on POST http://127.0.0.1:{closed_port}/products/batch"
    )
    assert_clean(error)


@pytest.mark.parametrize(
    ("status", "form", "seconds"),
    [(429, "seconds", 7.0), (429, "date", 60.0), (503, "seconds", 7.0), (503, "date", 60.0)],
)
async def test_retry_after_read_from_real_responses(
    server: tuple[FlakyServer, str], status: int, form: str, seconds: float
) -> None:
    _, base_url = server
    async with account_client(base_url, timeout=SHORT) as client:
        response = await client.get(f"/throttle/{status}", params={"form": form})
    assert response.status_code == status
    header = response.headers.get("retry-after")
    assert retry_after_seconds(header, now=ONE_MINUTE_BEFORE) == seconds
    error = RateLimitedError("throttled", account="woo-1", status=status, retry_after=seconds)
    assert error.retry_after == seconds


async def test_logged_urls_have_no_query_string(
    server: tuple[FlakyServer, str], caplog: pytest.LogCaptureFixture
) -> None:
    _, base_url = server
    with caplog.at_level(logging.DEBUG, logger="omnistock.adapters.http"):
        async with account_client(base_url, auth=httpx.BasicAuth("ck_key", SECRET)) as client:
            await client.get("/echo", params={"consumer_secret": SECRET})
    messages = [record.getMessage() for record in caplog.records]
    assert messages == [f"request GET {base_url}/echo", f"response 200 to GET {base_url}/echo"]
    assert SECRET not in caplog.text


def test_an_error_without_a_request_is_still_translated() -> None:
    error = translate_transport_error(httpx.ReadTimeout("timed out"), account="woo-1")
    assert str(error) == "woo-1: read timed out on an unknown request"


def test_unlisted_transport_errors_name_their_class() -> None:
    request = httpx.Request("GET", f"https://shop.example/x?consumer_secret={SECRET}")
    error = translate_transport_error(httpx.ProxyError("p", request=request), account="a")
    assert str(error) == "a: transport failure (ProxyError) on GET https://shop.example/x"


def test_safe_url_drops_query_fragment_and_userinfo() -> None:
    url = f"https://ck:{SECRET}@shop.example:8443/wp-json/wc/v3?consumer_secret={SECRET}#x"
    assert safe_url(url) == "https://shop.example:8443/wp-json/wc/v3"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("   ", None),
        ("soon", None),
        ("-1", None),
        ("nan", None),
        ("inf", None),
        ("0", 0.0),
        ("2.0", 2.0),
        (" 120 ", 120.0),
        (HTTP_DATE, 60.0),
        ("Wed, 21 Oct 2015 07:28:00 -0000", 60.0),
        ("Wed, 21 Oct 2015 07:26:00 GMT", 0.0),  # already past: go now
        ("Wed, 32 Oct 2015 07:28:00 GMT", None),
    ],
)
def test_retry_after_seconds_parses_both_forms(value: str | None, expected: float | None) -> None:
    assert retry_after_seconds(value, now=ONE_MINUTE_BEFORE) == expected


def test_retry_after_seconds_defaults_now_to_the_current_time() -> None:
    seconds = retry_after_seconds("Fri, 01 Jan 2100 00:00:00 GMT")
    assert seconds is not None
    assert seconds > 60 * 365 * 24 * 3600


async def test_a_given_transport_is_used_instead_of_the_network() -> None:
    transport = httpx.ASGITransport(app=FlakyServer().app())
    async with account_client("http://sandbox.test", transport=transport) as client:
        response = await client.get("/echo", params={"via": "asgi"})
    assert response.json() == {"user-agent": "omnistock/0.1", "via": "asgi"}
