"""The sandbox's stand-in for S3 pre-signed URLs (feed and report documents): an HMAC over
the document id and its expiry, refused once the platform clock passes that expiry."""

from __future__ import annotations

import hashlib
import hmac

from starlette.requests import Request
from starlette.responses import Response

from omnistock.kit.sandbox.common.clock import SandboxClock

URL_TTL_S = 300.0  # Amazon: a document's pre-signed URL expires after 5 minutes


class Presigner:
    """Signs `{base_url}{path}/{document_id}` URLs and checks a request made to one."""

    def __init__(self, clock: SandboxClock, base_url: str, path: str, secret: str) -> None:
        self._clock = clock
        self._prefix = f"{base_url.rstrip('/')}{path}"
        self._secret = secret.encode()

    def url(self, document_id: str) -> str:
        expires = str(int(self._clock.now() + URL_TTL_S))
        query = f"X-Amz-Expires={expires}&X-Amz-Signature={self._sign(document_id, expires)}"
        return f"{self._prefix}/{document_id}?{query}"

    def valid(self, request: Request) -> str | None:
        """The document id of a request bearing a good, unexpired signature; else None."""
        document_id = str(request.path_params["document_id"])
        expires = request.query_params.get("X-Amz-Expires", "")
        given = request.query_params.get("X-Amz-Signature", "")
        if not expires.isdigit() or not hmac.compare_digest(
            given, self._sign(document_id, expires)
        ):
            return None
        return None if self._clock.now() > int(expires) else document_id

    def _sign(self, document_id: str, expires: str) -> str:
        message = f"{document_id}:{expires}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()


def access_denied(message: str = "") -> Response:
    """S3's refusal of an expired or forged pre-signed URL."""
    detail = f"<Message>{message}</Message>" if message else ""
    body = f"<Error><Code>AccessDenied</Code>{detail}</Error>".encode()
    return Response(body, 403, media_type="application/xml")
