"""The inbox and event bus: durable hand-over between ingestion and processing."""
