"""Typed task payloads: what travels on the Celery queues and back on the reply keys.

Images never travel here: they are Redis keys (see `redis_keys`). Arrays travel as base64 of
little-endian float32, which is ~10x smaller and faster to parse than JSON lists of floats.
"""

from __future__ import annotations

import base64
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.common.errors import ErrorCode, TryonError

NUM_LANDMARKS = 478


def encode_f32(array: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(array, dtype="<f4").tobytes()).decode("ascii")


def decode_f32(text: str, shape: tuple[int, ...]) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype="<f4").reshape(shape)


class _Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TaskEnvelope(_Payload):
    """Fields every interactive task carries."""

    request_id: str
    tenant: str
    # The gateway BLPOPs this key; the worker pushes exactly one TaskReply there.
    reply_key: str


class ReconstructTask(TaskEnvelope):
    face_id: str
    max_faces: int = Field(ge=1)


class SkinToneResult(_Payload):
    lab: tuple[float, float, float]
    hex: str
    ita_degrees: float
    monk_bucket: int = Field(ge=1, le=10)
    undertone: Literal["cool", "neutral", "warm"]
    confidence: float


class FaceResult(_Payload):
    landmarks_f32: str  # (478, 3) float32, original-image pixels
    pose_matrix_f32: str  # (4, 4) float32, row-major
    pitch: float
    yaw: float
    roll: float
    box: tuple[float, float, float, float]  # x_min, y_min, width, height
    confidence: float
    skin_tone: SkinToneResult | None = None  # measured on photos, not on video frames

    def landmarks(self) -> np.ndarray:
        return decode_f32(self.landmarks_f32, (NUM_LANDMARKS, 3))

    def pose_matrix(self) -> np.ndarray:
        return decode_f32(self.pose_matrix_f32, (4, 4))


class FaceGeometryResult(_Payload):
    face_id: str
    image_width: int
    image_height: int
    faces: list[FaceResult]


# --- catalog and makeup ---------------------------------------------------------------------

# nail_polish is in the catalog (listed, searched, recommended when asked for) but not try-on-able:
# services/render/look.py refuses it where a look is resolved.
Category = Literal[
    "lipstick", "lip_liner", "blush", "bronzer", "contour", "highlighter", "foundation",
    "concealer", "eyeshadow", "eyeliner", "mascara", "brow", "nail_polish",
]  # fmt: skip
Finish = Literal["matte", "satin", "gloss", "shimmer", "metallic"]
EyeshadowZone = Literal["lid", "crease", "outer_corner"]
HEX_PATTERN = r"^#[0-9a-fA-F]{6}$"


class ShadePayload(_Payload):
    shade_id: str = Field(min_length=1, max_length=64)
    name: str = Field(max_length=200)
    hex: str = Field(pattern=HEX_PATTERN)
    finish: Finish = "satin"
    opacity: float = Field(default=0.85, ge=0.0, le=1.0)  # how much the shade hides the skin
    coverage: float = Field(default=0.5, ge=0.0, le=1.0)  # foundation/concealer


class ProductPayload(_Payload):
    product_id: str = Field(min_length=1, max_length=128)
    brand: str = Field(min_length=1, max_length=200)
    name: str = Field(min_length=1, max_length=300)
    category: Category
    shades: list[ShadePayload] = Field(min_length=1, max_length=500)
    price_currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    price_minor: int = Field(default=0, ge=0)
    swatch_uri: str = ""


class AppliedProduct(_Payload):
    """One product shade on the face: the one type for an applied product, from the request to
    the paint. A request names it (product, shade, intensity, zone); the catalog resolves it
    (`resolved`: category, colour, finish, opacity, coverage) and the engine paints it. Pydantic
    checks every field on construction, so nothing downstream validates it again."""

    product_id: str = Field(default="", max_length=128)
    shade_id: str = Field(default="", max_length=64)  # empty: the product's first shade
    intensity: float = Field(default=1.0, gt=0.0, le=1.0)  # the shopper's slider
    zone: EyeshadowZone | None = None  # eyeshadow only; the catalog defaults it to the lid
    # Set by the catalog (or directly, for a shade not in any catalog); None until resolved.
    category: Category | None = None
    hex: str = Field(default="", pattern=r"^(#[0-9a-fA-F]{6})?$")
    finish: Finish = "satin"
    opacity: float = Field(default=0.85, ge=0.0, le=1.0)  # how much the shade hides the skin
    coverage: float = Field(default=0.5, ge=0.0, le=1.0)  # foundation/concealer evenness

    @model_validator(mode="after")
    def _zone_is_for_eyeshadow(self) -> AppliedProduct:
        if self.zone is not None and self.category is not None and self.category != "eyeshadow":
            raise ValueError(
                f"zone is for eyeshadow only, got zone {self.zone!r} on {self.category}"
            )
        return self

    @classmethod
    def paint(cls, category: Category, hex: str, **fields: object) -> AppliedProduct:
        """A resolved shade given directly (tests, benchmarks, reference renders)."""
        return cls(category=category, hex=hex, **fields)  # type: ignore[arg-type]


class TryOnTask(TaskEnvelope):
    """One piece of work per TryOn: render reads the selfie and recon's cached geometry by
    face_id (or finds the faces itself when none is cached); nothing returns to the gateway
    in between."""

    face_id: str
    look: list[AppliedProduct] = Field(min_length=1)
    face_index: int | None = None  # None: every face
    output_format: Literal["jpeg", "png", "webp"] = "jpeg"
    side_by_side: bool = False


class StreamFrameTask(TaskEnvelope):
    """One frame of a live stream (queue `stream`). The frame's pixels are a Redis key; the
    tracking state between frames is another, owned by the stream."""

    stream_id: str
    frame_key: str
    sequence: int
    timestamp_us: int
    # Raw RGB frames carry their size; encoded ones are sniffed.
    raw_width: int = 0
    raw_height: int = 0
    look: list[AppliedProduct] = Field(default_factory=list)
    max_faces: int = Field(ge=1)
    output_format: Literal["jpeg", "png", "webp"] = "jpeg"
    # Unix time after which nobody waits for this frame: a worker that pops it later drops it.
    deadline_unix: float = 0.0


class TaskFailure(_Payload):
    code: ErrorCode
    message: str

    def to_error(self) -> TryonError:
        return TryonError(self.code, self.message)


class TaskReply(_Payload):
    """Base of every reply: when `error` is set the task failed and nothing else is set."""

    error: TaskFailure | None = None


class ReconstructReply(TaskReply):
    geometry: FaceGeometryResult | None = None
    cache_hit: bool = False


class TryOnReply(TaskReply):
    # Tenant-scoped Redis key of the encoded result (short TTL): images never ride in replies.
    image_key: str = ""
    content_type: str = ""
    geometry: FaceGeometryResult | None = None


class StreamFrameReply(TaskReply):
    image_key: str = ""
    faces: list[FaceResult] = Field(default_factory=list)  # smoothed; no skin tone
    tracked: bool = False
    # Milliseconds per stage inside the worker: decode, detect, landmarks, smooth, render,
    # encode, worker.
    timings_ms: dict[str, float] = Field(default_factory=dict)


class ListProductsTask(TaskEnvelope):
    brand: str = ""
    category: Category | None = None
    colour_family: str = ""
    min_price_minor: int | None = None
    max_price_minor: int | None = None
    page_size: int = 50
    page_token: str = ""
    # Words that must all appear in the brand, name or a shade name (gateway-checked).
    query: str = ""


class GetProductTask(TaskEnvelope):
    product_id: str
    # swatch_uri as a data: URI of the PNG instead of a tryon://swatch/ reference.
    include_swatch: bool = False


class UpsertProductsTask(TaskEnvelope):
    products: list[ProductPayload] = Field(min_length=1)


class CatalogReply(TaskReply):
    products: list[ProductPayload] = Field(default_factory=list)
    next_page_token: str = ""
    created: int = 0
    updated: int = 0


JobState = Literal["queued", "running", "succeeded", "failed", "cancelled"]


class RerenderTask(TaskEnvelope):
    brands: list[str] = Field(default_factory=list)
    categories: list[Category] = Field(default_factory=list)
    product_ids: list[str] = Field(default_factory=list)
    reference_face_ids: list[str] = Field(default_factory=list)


class JobTask(TaskEnvelope):
    job_id: str
    cancel: bool = False


class JobPayload(_Payload):
    job_id: str
    state: JobState
    total: int = 0
    done: int = 0
    failed: int = 0
    output_uri: str = ""
    error: str = ""


class JobReply(TaskReply):
    job: JobPayload | None = None


class RerenderChunkTask(_Payload):
    """A slice of a batch job: some shades on one reference face (batch queue, no reply)."""

    tenant: str
    job_id: str
    face_ref: str  # names the output folder
    # Built-in reference photos are read from the reference folder by name; a caller's own
    # reference face comes from its stored selfie.
    reference_file: str = ""
    face_id: str = ""
    geometry: FaceGeometryResult
    shades: list[AppliedProduct] = Field(min_length=1)  # resolved


# --- recsys ------------------------------------------------------------------------------------

EventType = Literal["try_on", "add_to_cart", "purchase", "rating"]


class EventPayload(_Payload):
    """One shopper event; `event_id` makes recording idempotent."""

    event_id: str = Field(min_length=1, max_length=128)
    user_id: str = Field(min_length=1, max_length=128)
    type: EventType
    product_id: str = Field(min_length=1, max_length=128)
    shade_id: str = Field(default="", max_length=64)
    occurred_at_ms: int = Field(ge=0)  # Unix epoch milliseconds
    rating: int = Field(default=0, ge=0, le=5)


class RecordEventTask(TaskEnvelope):
    event: EventPayload


class RecordEventReply(TaskReply):
    created: bool = False


class TryOnEventsTask(_Payload):
    """Try-on events the gateway records after a TryOn with a user id (no reply)."""

    tenant: str
    events: list[EventPayload] = Field(min_length=1, max_length=64)


class SkinAttributesPayload(_Payload):
    """What recsys knows of a shopper's face (from recon's skin tone, or given directly)."""

    lab: tuple[float, float, float] | None = None
    monk_bucket: int | None = Field(default=None, ge=1, le=10)
    undertone: Literal["cool", "neutral", "warm"] | None = None


class RecommendTask(TaskEnvelope):
    user_id: str = ""
    skin: SkinAttributesPayload | None = None
    # A selfie's face: recsys reads the skin from recon's cached geometry itself (the geometry
    # never travels through the gateway).
    face_id: str = ""
    categories: list[Category] = Field(default_factory=list)
    k: int = Field(ge=1, le=100)


class RecommendationPayload(_Payload):
    product: ProductPayload
    shade_id: str
    score: float
    reason: str
    delta_e: float = 0.0  # CIEDE2000 to the shopper's skin, for base products


class RecommendReply(TaskReply):
    recommendations: list[RecommendationPayload] = Field(default_factory=list)
    model_version: str = ""


class TrainTask(_Payload):
    """Retrain the recommender (Celery beat, or on demand); no reply."""

    reason: str = "scheduled"


class AdviceTurnPayload(_Payload):
    role: Literal["shopper", "advisor"]
    text: str = Field(max_length=2000)


class AdviceSlotsPayload(_Payload):
    """What the advisor understood (services/recsys/advisor/slots.py's Slots, on the wire)."""

    language: Literal["en", "zh"] = "en"
    categories: list[str] = Field(default_factory=list)
    colour_hex: str = ""
    colour_name: str = ""
    colour_family: str = ""
    finish: str = ""
    excluded_finishes: list[str] = Field(default_factory=list)
    occasion: str = ""
    intensity: str = ""
    max_price_minor: int | None = None
    brands: list[str] = Field(default_factory=list)
    excluded_brands: list[str] = Field(default_factory=list)
    adjustments: list[str] = Field(default_factory=list)
    out_of_scope: bool = False


class AdviseTask(TaskEnvelope):
    message: str = Field(min_length=1, max_length=2000)
    face_id: str = ""
    user_id: str = ""
    history: list[AdviceTurnPayload] = Field(default_factory=list, max_length=20)
    render: bool = False
    k: int = Field(default=6, ge=1, le=12)


class AdviseReply(TaskReply):
    slots: AdviceSlotsPayload | None = None
    products: list[RecommendationPayload] = Field(default_factory=list)
    reply: str = ""
    # The look on the face, when rendered: a tenant-scoped Redis key, like TryOn's.
    image_key: str = ""
    content_type: str = ""


class SearchProductsTask(TaskEnvelope):
    text: str = Field(default="", max_length=500)
    colour: str = Field(default="", max_length=100)
    max_delta_e: float = Field(default=15.0, gt=0.0, le=100.0)
    category: str = ""
    page_size: int = Field(default=20, ge=1, le=100)


class SearchResultPayload(_Payload):
    product: ProductPayload
    shade_id: str
    delta_e: float = 0.0


class SearchProductsReply(TaskReply):
    results: list[SearchResultPayload] = Field(default_factory=list)
    understood: AdviceSlotsPayload | None = None


class DeleteUserDataTask(TaskEnvelope):
    """Everything a tenant holds on one shopper: events by user_id, and selfies and face data
    by face_id (those named here and those remembered under the user)."""

    user_id: str = Field(default="", max_length=128)
    face_ids: list[str] = Field(default_factory=list, max_length=100)


class DeleteUserDataReply(TaskReply):
    deleted_events: int = 0
    deleted_faces: int = 0
