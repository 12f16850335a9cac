"""Opaque page tokens for keyset pagination: the last product id of a page, plus a fingerprint
of the query's filters so a token cannot silently be reused with different filters."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json

from services.common.errors import ErrorCode, TryonError

_VERSION = 1


def filters_fingerprint(filters: dict[str, object]) -> str:
    text = json.dumps(filters, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def encode_page_token(after_product_id: str, fingerprint: str) -> str:
    body = json.dumps({"v": _VERSION, "a": after_product_id, "f": fingerprint}, ensure_ascii=False)
    return base64.urlsafe_b64encode(body.encode()).decode("ascii").rstrip("=")


def decode_page_token(token: str, fingerprint: str) -> str:
    """The product id the next page starts after; INVALID_ARGUMENT for anything we did not issue
    for this same query."""
    try:
        padded = token + "=" * (-len(token) % 4)
        body = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        if not isinstance(body, dict) or body.get("v") != _VERSION:
            raise ValueError("unknown version")
        after, issued_for = body["a"], body["f"]
        if not isinstance(after, str) or not isinstance(issued_for, str):
            raise ValueError("bad fields")
    except (ValueError, KeyError, UnicodeError, binascii.Error):
        raise TryonError(
            ErrorCode.INVALID_ARGUMENT,
            "page_token is not one this API issued: pass the previous page's next_page_token "
            "unchanged, or an empty page_token for the first page",
        ) from None
    if issued_for != fingerprint:
        raise TryonError(
            ErrorCode.INVALID_ARGUMENT,
            "page_token belongs to a query with other filters: keep brand, category, "
            "colour_family, the price bounds and query of the first page, or start over with an "
            "empty page_token",
        )
    return after
