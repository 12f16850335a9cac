"""Versioned recommender models on disk, swapped in atomically.

Layout under `TRYON_RECSYS_MODEL_DIR` (default var/recsys-models):

    <version>/model.pkl     one trained BehaviourModel (written to a temp dir, then renamed)
    CURRENT                 the version the workers serve (replaced with os.replace)

Training writes a complete new version before it touches CURRENT, so a failed or killed
training leaves the previous model serving. Workers poll CURRENT's content (a stat and a tiny
read, at most every POLL_S) and load a new version next to the old one before switching; a
version that fails to load is logged and skipped, never half-served. The pickles are our own
training output, never user input.
"""

from __future__ import annotations

import logging
import os
import pickle
import shutil
import tempfile
import threading
import time
from pathlib import Path

from services.recsys.behaviour_model import BehaviourModel

__all__ = ["ModelRegistry", "default_model_root", "EMPTY_VERSION"]

log = logging.getLogger(__name__)
POLL_S = 2.0
KEEP_VERSIONS = 5
EMPTY_VERSION = "none"  # no model trained yet: skin and catalog only
_REPO_ROOT = Path(__file__).resolve().parents[2]


def default_model_root() -> Path:
    return Path(os.environ.get("TRYON_RECSYS_MODEL_DIR", _REPO_ROOT / "var" / "recsys-models"))


class ModelRegistry:
    def __init__(self, root: Path | None = None) -> None:
        self.root = root or default_model_root()
        self._model = BehaviourModel(version=EMPTY_VERSION)
        self._checked = 0.0
        self._lock = threading.Lock()

    # -- training side -----------------------------------------------------------------------
    def publish(self, model: BehaviourModel) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        final = self.root / model.version
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=self.root))
        try:
            with open(staging / "model.pkl", "wb") as f:
                pickle.dump(model, f, protocol=pickle.HIGHEST_PROTOCOL)
                f.flush()
                os.fsync(f.fileno())
            os.replace(staging, final)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        pointer = self.root / f".CURRENT.{os.getpid()}"
        pointer.write_text(model.version)
        os.replace(pointer, self.root / "CURRENT")
        self._prune(keep=model.version)
        return final

    def _prune(self, keep: str) -> None:
        versions = sorted(
            (p for p in self.root.iterdir() if p.is_dir() and not p.name.startswith(".")),
            key=lambda p: p.stat().st_mtime,
        )
        for old in versions[:-KEEP_VERSIONS]:
            if old.name != keep:
                shutil.rmtree(old, ignore_errors=True)

    # -- serving side ------------------------------------------------------------------------
    def current(self) -> BehaviourModel:
        """The model to serve now (reloads when CURRENT names a new version)."""
        now = time.monotonic()
        if now - self._checked >= POLL_S:
            with self._lock:
                if now - self._checked >= POLL_S:
                    self._checked = now
                    self._maybe_swap()
        return self._model

    def _maybe_swap(self) -> None:
        try:
            version = (self.root / "CURRENT").read_text().strip()
        except FileNotFoundError:
            return
        if not version or version == self._model.version:
            return
        try:
            with open(self.root / version / "model.pkl", "rb") as f:
                model = pickle.load(f)
        except Exception:
            log.exception("recommender model %s failed to load; still serving %s",
                          version, self._model.version)  # fmt: skip
            return
        self._model = model  # one reference swap: requests see the old or the new, whole
        log.info("serving recommender model %s", version)
