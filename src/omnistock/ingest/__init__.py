"""Ingestion: webhooks, pollers and inbox processing turn channel facts into ledger events."""
