-- Bearer tokens of the HTTP API, stored only as SHA-256 digests of the token.
CREATE TABLE api_tokens (
    digest TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    scope TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0
)
