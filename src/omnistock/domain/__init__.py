"""The pure core: ledger events, balances, allocation, bundles and planning.

Standard library only; no clock reads, no I/O (enforced by import-linter)."""
