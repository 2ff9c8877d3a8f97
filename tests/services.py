"""Real services for tests: the server an env var names, else one started locally, else skip.

Under CI=true a missing service fails the run instead of skipping."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

_DEBIAN_PG = Path("/usr/lib/postgresql")


def unavailable(reason: str) -> None:
    """Skip locally; fail under CI, where every service must be there."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"required service missing in CI: {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def _debian_postgres() -> Iterator[str]:
    bindir = sorted(_DEBIAN_PG.glob("*/bin"))[-1]
    data = Path(tempfile.mkdtemp(prefix="omnistock-pg-"))
    shutil.chown(data, "postgres")
    as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    port = _free_port()
    initdb = [*as_pg, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]
    subprocess.run([*initdb, "--no-sync"], check=True, capture_output=True)  # noqa: S603
    opts = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off"
    ctl = [*as_pg, str(bindir / "pg_ctl"), "-D", str(data), "-w"]
    # -l: the server must not inherit our pipes, or waiting for pg_ctl never ends.
    start = [*ctl, "-l", str(data / "server.log"), "-o", opts, "start"]
    subprocess.run(start, check=True, capture_output=True, timeout=60)  # noqa: S603
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*ctl, "-m", "fast", "stop"], check=False, capture_output=True)  # noqa: S603
        shutil.rmtree(data, ignore_errors=True)


@contextmanager
def _pgserver() -> Iterator[str]:
    import pgserver  # type: ignore[import-not-found,unused-ignore]

    data = tempfile.mkdtemp(prefix="omnistock-pgserver-")
    # pgserver is typed where installed; on other machines (see pyproject) it is absent.
    server = pgserver.get_server(data, cleanup_mode="stop")  # type: ignore[attr-defined,unused-ignore]
    try:
        yield str(server.get_uri())
    finally:
        server.cleanup()


@contextmanager
def postgres_server() -> Iterator[str | None]:
    """A DSN of a running PostgreSQL server, or None when none can be had."""
    dsn = os.environ.get("OMNISTOCK_TEST_PG_DSN")
    if dsn:
        yield dsn
    elif _DEBIAN_PG.exists() and shutil.which("runuser"):
        with _debian_postgres() as started:
            yield started
    else:
        try:
            with _pgserver() as started:
                yield started
        except ImportError:
            yield None
