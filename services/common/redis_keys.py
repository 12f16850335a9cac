"""The Redis key layout. Every key that holds tenant data starts with the tenant's prefix, so a
request can only ever name keys of the tenant its API key belongs to."""

from __future__ import annotations

import hashlib
import re

_TENANT_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_FACE_ID_RE = re.compile(r"^[0-9a-f]{32}$")


def check_tenant(tenant: str) -> str:
    if not _TENANT_RE.fullmatch(tenant):
        raise ValueError(f"bad tenant id {tenant!r}: use 1-63 of [a-z0-9_-]")
    return tenant


def is_face_id(value: str) -> bool:
    return bool(_FACE_ID_RE.fullmatch(value))


def face_id_for(tenant: str, image: bytes) -> str:
    """Keyed by tenant: the same photo gets a different id per tenant, and an id says nothing
    about the photo to anyone who does not already have it."""
    return hashlib.blake2b(image, digest_size=16, key=check_tenant(tenant).encode()).hexdigest()


def image_key(tenant: str, face_id: str) -> str:
    return f"tryon:t:{check_tenant(tenant)}:image:{face_id}"


def face_key(tenant: str, face_id: str) -> str:
    """Cached reconstruction of the image under the same face_id."""
    return f"tryon:t:{check_tenant(tenant)}:face:{face_id}"


def reply_key(request_id: str) -> str:
    """Where a worker pushes the one reply the gateway waits for (request ids are random)."""
    return f"tryon:reply:{request_id}"


def render_output_key(tenant: str, request_id: str) -> str:
    """An encoded try-on result, picked up (and deleted) by the gateway at once."""
    return f"tryon:t:{check_tenant(tenant)}:render:{request_id}"


def job_key(tenant: str, job_id: str) -> str:
    """A batch job's state and progress (not biometric: outlives selfies)."""
    return f"tryon:job:{check_tenant(tenant)}:{job_id}"


def stream_frame_key(tenant: str, request_id: str) -> str:
    """One video frame of a stream, read (and deleted) by the worker that renders it."""
    return f"tryon:t:{check_tenant(tenant)}:frame:{request_id}"


def stream_state_key(tenant: str, stream_id: str) -> str:
    """A stream's tracking state between frames (landmarks: biometric, short TTL)."""
    return f"tryon:t:{check_tenant(tenant)}:stream:{stream_id}"


def publishable_key_rate_key(key_id: str, window: int) -> str:
    """Requests of one publishable key in one fixed window (minute number since the epoch),
    shared by every gateway."""
    return f"tryon:pk:{key_id}:rpm:{window}"


def tenant_streams_key(tenant: str) -> str:
    """The tenant's open streams (a sorted set scored by last activity), for its limit."""
    return f"tryon:t:{check_tenant(tenant)}:streams"


def browser_rate_key(bucket: str, key_id: str, client: str, window: int) -> str:
    """The web studio's per-browser counter for one minute window. `client` is a digest of the
    browser's address, never the address itself."""
    return f"tryon:web:rate:{bucket}:{key_id}:{client}:{window}"


def user_faces_key(tenant: str, user_id: str) -> str:
    """The face_ids a shopper's requests named (TryOn, Recommend, Advise with a user_id), kept
    as long as a selfie lives, so DeleteUserData finds them. The user id is hashed (keyed by
    tenant): a key name never shows it."""
    digest = hashlib.blake2b(user_id.encode(), digest_size=16, key=check_tenant(tenant).encode())
    return f"tryon:t:{tenant}:user-faces:{digest.hexdigest()}"
