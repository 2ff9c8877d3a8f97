"""Sales-channel adapters: one package per platform, all behind the ChannelAdapter protocol.

Shared building blocks (limiters, backoff, tokens, HTTP clients) live beside the protocol."""
