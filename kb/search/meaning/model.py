"""The embedding model: WordLlama's static token embeddings, read from the files its package ships.

Loaded once per process (`embedder()`), before gunicorn forks its workers where it can be
(`preload`), and never from the network: the weights and tokenizer are files inside the
installed `wordllama` package. Vectors are float32 and of unit length, so a dot product is
the cosine similarity.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

MODEL_NAME = "wordllama-l2-supercat-256"
"""Stored with every vector, so vectors of another model are never compared with these."""
DIMENSIONS = 256

Vectors = npt.NDArray[np.float32]


class Embedder(Protocol):
    """Turns texts into unit vectors, one row per text."""

    name: str
    dimensions: int

    def embed(self, texts: list[str]) -> Vectors:
        """One float32 unit vector per text (a row of zeros for a text with no known word)."""
        ...


class WordLlamaEmbedder:
    """WordLlama's l2_supercat model at 256 dimensions: mean of token vectors, no network, numpy only."""

    name = MODEL_NAME
    dimensions = DIMENSIONS

    def __init__(self) -> None:
        import wordllama
        from safetensors import safe_open
        from wordllama import WordLlama
        from wordllama.inference import WordLlamaInference

        # The package's own loader looks for its tokenizer in a folder it does not ship
        # ("tokenizer/", not "tokenizers/") and then downloads it; the files are read here directly.
        root = Path(wordllama.__file__).parent
        tokenizer = WordLlama.load_tokenizer(root / "tokenizers" / "l2_supercat_tokenizer_config.json")
        with safe_open(str(root / "weights" / "l2_supercat_256.safetensors"), framework="np", device="cpu") as weights:
            table = weights.get_tensor("embedding.weight")
        self._model = WordLlamaInference(table, tokenizer)
        self._lock = threading.Lock()

    def embed(self, texts: list[str]) -> Vectors:
        """Unit vectors of `texts` (the tokenizer is not safe to share between threads, so calls take turns)."""
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        with self._lock, np.errstate(invalid="ignore", divide="ignore"):
            vectors = self._model.embed(texts, norm=True)
        return np.nan_to_num(np.asarray(vectors, dtype=np.float32))


_loaded: Embedder | None = None
_loading = threading.Lock()


def embedder() -> Embedder:
    """The process's one model, loaded on first use (about half a second and 130 MB)."""
    global _loaded
    if _loaded is None:
        with _loading:
            if _loaded is None:
                _loaded = WordLlamaEmbedder()
    return _loaded


def preload() -> None:
    """Load the model now, so workers forked after this share its pages instead of each loading it."""
    embedder()
