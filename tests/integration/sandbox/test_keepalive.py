"""KeepAlivePoster against real loopback servers: connections kept and reused, one closed
by the server while idle replaced without losing the POST, and every failure an answer of
None, never an exception."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from omnistock.kit.sandbox.common.keepalive import KeepAlivePoster

Answer = Callable[[bytes, asyncio.StreamWriter], Awaitable[bool]]  # False: close it


class _Server:
    """A raw HTTP/1.1 server on 127.0.0.1 that answers each request with `answer`."""

    def __init__(self, answer: Answer) -> None:
        self._answer = answer
        self.connections = 0
        self.requests: list[bytes] = []
        self.url = ""

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                request = head + await reader.readexactly(length)
                self.requests.append(request)
                if not await self._answer(request, writer):
                    break
        except asyncio.IncompleteReadError:
            pass  # the client went away
        finally:
            writer.close()


@contextlib.asynccontextmanager
async def _serving(answer: Answer) -> AsyncIterator[_Server]:
    server = _Server(answer)
    listening = await asyncio.start_server(server._serve, "127.0.0.1", 0)
    port = listening.sockets[0].getsockname()[1]
    server.url = f"http://127.0.0.1:{port}/hooks/woo?x=1"
    async with listening:
        yield server


def _ok(status: int = 200, extra: bytes = b"", keep: bool = True) -> Answer:
    async def answer(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 %d OK\r\n%bContent-Length: 2\r\n\r\nok" % (status, extra))
        await writer.drain()
        return keep

    return answer


async def test_posts_share_one_kept_connection_and_carry_path_headers_and_body() -> None:
    poster = KeepAlivePoster()
    async with _serving(_ok(202)) as server:
        first = await poster.post(server.url, b'{"a":1}', [("X-Sig", "abc")], 5.0)
        second = await poster.post(server.url, b"{}", [], 5.0)
        await poster.aclose()
    assert (first, second) == (202, 202)
    assert server.connections == 1
    request = server.requests[0]
    assert request.startswith(b"POST /hooks/woo?x=1 HTTP/1.1\r\n")
    assert b"\r\nX-Sig: abc\r\n" in request
    assert request.endswith(b'\r\n\r\n{"a":1}')


async def test_a_connection_the_server_closed_while_idle_is_replaced_and_the_post_goes() -> None:
    poster = KeepAlivePoster()
    # Answers without saying so, then closes: the pooled connection is dead when reused.
    async with _serving(_ok(keep=False)) as server:
        assert await poster.post(server.url, b"1", [], 5.0) == 200
        await asyncio.sleep(0.05)  # the close reaches the client's side
        assert await poster.post(server.url, b"2", [], 5.0) == 200
        await poster.aclose()
    assert server.connections == 2
    assert [r[-1:] for r in server.requests] == [b"1", b"2"]


async def test_connection_close_is_honoured() -> None:
    poster = KeepAlivePoster()
    async with _serving(_ok(extra=b"Connection: close\r\n", keep=False)) as server:
        for n in range(3):
            assert await poster.post(server.url, str(n).encode(), [], 5.0) == 200
        await poster.aclose()
    assert server.connections == 3


async def test_an_answer_without_a_length_is_no_answer() -> None:
    async def chunked(request: bytes, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n")
        await writer.drain()
        return True

    poster = KeepAlivePoster()
    async with _serving(chunked) as server:
        assert await poster.post(server.url, b"x", [], 5.0) is None
        assert await poster.post(server.url, b"y", [], 5.0) is None  # not reused: closed
        await poster.aclose()
    assert server.connections == 2


async def test_silence_times_out_as_no_answer() -> None:
    async def silent(request: bytes, writer: asyncio.StreamWriter) -> bool:
        await asyncio.sleep(10)
        return False

    poster = KeepAlivePoster()
    async with _serving(silent) as server:
        assert await asyncio.wait_for(poster.post(server.url, b"x", [], 0.2), 5) is None
        await poster.aclose()


async def test_nobody_listening_is_no_answer() -> None:
    async with _serving(_ok()) as server:
        url = server.url
    assert await KeepAlivePoster().post(url, b"x", [], 5.0) is None


@pytest.mark.parametrize("url", ["https://127.0.0.1:1/hooks", "ftp://host/x", "/relative"])
async def test_only_plain_http_urls(url: str) -> None:
    with pytest.raises(ValueError, match="http:// URLs only"):
        await KeepAlivePoster().post(url, b"x", [], 5.0)
