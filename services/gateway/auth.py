"""Per-tenant secret API keys, sent by callers in metadata `x-api-key`. (Publishable keys,
"pk_...", live in the database: publishable_keys.py; authn.py tells the two apart.)

Keys are kept only as SHA-256 digests and compared in constant time against every entry.
Configuration (either or both):
  TRYON_API_KEYS       "tenant:key,tenant2:key2"   plain keys, hashed at start-up
  TRYON_API_KEYS_FILE  one "tenant:sha256:<hex>" (or "tenant:<key>") per line; '#' comments
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from services.common.redis_keys import check_tenant

API_KEY_HEADER = "x-api-key"


def hash_key(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


@dataclass(frozen=True)
class ApiKeyStore:
    entries: tuple[tuple[str, bytes], ...]  # (tenant, sha256(key))

    @classmethod
    def parse(cls, lines: Iterable[str]) -> ApiKeyStore:
        entries = []
        for raw in lines:
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            tenant, sep, secret = line.partition(":")
            if not sep or not secret:
                raise ValueError(
                    "API key entries must look like 'tenant:key' or 'tenant:sha256:<hex>'"
                )
            if secret.startswith("sha256:"):
                digest = bytes.fromhex(secret.removeprefix("sha256:"))
                if len(digest) != 32:
                    raise ValueError(f"API key digest of tenant {tenant!r} is not 64 hex digits")
            else:
                if len(secret) < 16:
                    raise ValueError(f"API key of tenant {tenant!r} is shorter than 16 characters")
                if secret.startswith("pk_"):
                    raise ValueError(
                        f"API key of tenant {tenant!r} starts with 'pk_', the prefix of "
                        "publishable keys: choose a secret key without it"
                    )
                digest = hash_key(secret)
            entries.append((check_tenant(tenant.strip()), digest))
        return cls(tuple(entries))

    @classmethod
    def from_env(cls) -> ApiKeyStore:
        lines = [p for p in os.environ.get("TRYON_API_KEYS", "").split(",") if p.strip()]
        path = os.environ.get("TRYON_API_KEYS_FILE", "").strip()
        if path:
            lines += Path(path).read_text().splitlines()
        store = cls.parse(lines)
        if not store.entries:
            raise ValueError("no API keys configured: set TRYON_API_KEYS or TRYON_API_KEYS_FILE")
        return store

    def tenant_for(self, presented: str | None) -> str | None:
        """The tenant owning the key, or None. Visits every entry whatever matches."""
        digest = hash_key(presented or "")
        found = None
        for tenant, expected in self.entries:
            if hmac.compare_digest(digest, expected) and presented:
                found = tenant
        return found
