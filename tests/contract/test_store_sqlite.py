"""The store contract on SQLite (a WAL file)."""

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from omnistock.ledger.store import Store
from tests.contract.builders import seed
from tests.contract.hammer import SKUS, hammer
from tests.contract.store_backed import OnSqlite
from tests.contract.store_suite import EventStoreContract, assert_balances_match


class TestSqliteStore(OnSqlite, EventStoreContract):
    pass


async def test_writer_processes_lose_no_update(tmp_path: Path) -> None:
    """SQLite serialises writers across processes, not only threads."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    store = await Store.open(url)
    try:
        await seed(store, SKUS)
        spawn = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(3, mp_context=spawn) as pool:
            runs = list(pool.map(hammer, [url] * 3, range(3), [20] * 3))
        await assert_balances_match(store, [e for run in runs for e in run])
    finally:
        await store.close()
