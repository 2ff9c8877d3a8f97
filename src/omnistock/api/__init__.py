"""omnistock's HTTP API: the event API, balances and sync state, behind scoped bearer tokens.

Starlette; request bodies are validated by pydantic at the edge, then by the domain."""
