"""Downstream notifications: signed outbound webhooks with retries, and a live SSE stream,
both fed by the durable notification outbox in the ledger database."""
