"""Storage of the ledger: events, balances, the catalog and listing sync state.

One set of transaction scripts runs on SQLite (embedded default) and PostgreSQL."""
