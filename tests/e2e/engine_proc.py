"""`omnistock run --config FILE` as its own OS process, for the crash-safety test:

    python -m tests.e2e.engine_proc CONFIG.toml

It is exactly `run_engine` (what the CLI runs: catalog from the TOML, credentials from the
environment, first sync, webhooks and API on `listen`) with shorter periods, which
EngineConfig cannot set: the order pollers start at 0.5 s and stay within 0.5-2 s (default:
30 s, growing to 300 s), and every channel is reconciled every 5 s (default: 600 s), so
that orders and stock changes whose webhooks a crash lost are found within a test's time.
SIGTERM or SIGINT stop it gracefully; SIGKILL is the crash under test."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from omnistock import runner
from omnistock.engine import EngineSettings
from omnistock.engine_config import load_config
from omnistock.ingest.pollers import PollInterval

RECONCILE_S = 5.0

SETTINGS = EngineSettings(
    poll=PollInterval(min_s=0.5, max_s=2.0, start_s=0.5), reconcile_every_s=RECONCILE_S
)


async def _main(config_path: Path) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    config = load_config(config_path)
    await runner.run_engine(config, vault=None, environ=os.environ, stop=stop, settings=SETTINGS)


if __name__ == "__main__":
    asyncio.run(_main(Path(sys.argv[1])))
