"""Onboarding an account that already sells: discover what its channel lists, link it to
the catalog's SKUs. Product-side, at the level of ingest and dispatch."""
