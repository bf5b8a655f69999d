"""The embedding model: WordLlama's static token embeddings, read from the files its package ships.

Loaded once per process (`embedder()`), before gunicorn forks its workers where it can be
(`preload`), and never from the network: the weights and tokenizer are files inside the
installed `wordllama` package. Vectors are float32 and of unit length, so a dot product is
the cosine similarity. A text's vector is the mean of its tokens' vectors, or, given a
`Weighting` (one weight per token of the vocabulary, see `kb.search.meaning.weights`), their
weighted mean.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

MODEL_NAME = "wordllama-l2-supercat-256"
"""Stored with every vector, so vectors of another model are never compared with these."""
DIMENSIONS = 256

Vectors = npt.NDArray[np.float32]
TokenIds = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Weighting:
    """The weight of each token of the model's vocabulary, and the version that names them.

    `values` is None for the plain mean (every token weighs 1), whose version is "".
    """

    version: str = ""
    values: Vectors | None = None
    parts: int = 0
    """How many parts the weights were counted over."""

    @property
    def plain(self) -> bool:
        """True when every token weighs the same."""
        return self.values is None


PLAIN = Weighting()


class Embedder(Protocol):
    """Turns texts into unit vectors, one row per text."""

    name: str
    dimensions: int
    vocabulary: int

    def embed(self, texts: list[str], weights: Vectors | None = None) -> Vectors:
        """One float32 unit vector per text (a row of zeros for a text with no known word).

        With `weights` (one per token of the vocabulary), the tokens' vectors are averaged with
        those weights; without, each counts the same.
        """
        ...

    def token_ids(self, texts: list[str]) -> list[TokenIds]:
        """The vocabulary ids of each text's tokens, as `embed` reads them."""
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
        self._table = np.asarray(self._model.embedding, dtype=np.float32)
        self.vocabulary = int(self._table.shape[0])
        self._lock = threading.Lock()

    def embed(self, texts: list[str], weights: Vectors | None = None) -> Vectors:
        """Unit vectors of `texts` (the tokenizer is not safe to share between threads, so calls take turns).

        Raises ValueError when `weights` does not hold one weight per token of the vocabulary.
        """
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        if weights is not None:
            if weights.shape != (self.vocabulary,):
                raise ValueError(f"{len(weights)} token weights for a vocabulary of {self.vocabulary}")
            return self._weighted(self.token_ids(texts), weights)
        with self._lock, np.errstate(invalid="ignore", divide="ignore"):
            vectors = self._model.embed(texts, norm=True)
        return np.nan_to_num(np.asarray(vectors, dtype=np.float32))

    def token_ids(self, texts: list[str]) -> list[TokenIds]:
        """The vocabulary ids of each text's tokens (no padding, no special tokens)."""
        with self._lock:
            encoded = self._model.tokenizer.encode_batch(texts, add_special_tokens=False)
        found = []
        for encoding in encoded:
            ids = np.asarray(encoding.ids, dtype=np.int64)[np.asarray(encoding.attention_mask, dtype=bool)]
            found.append(np.clip(ids, 0, self.vocabulary - 1))
        return found

    def _weighted(self, texts: list[TokenIds], weights: Vectors) -> Vectors:
        vectors = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for row, ids in enumerate(texts):
            if len(ids):
                vectors[row] = weights[ids] @ self._table[ids]
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return (vectors / np.where(norms > 0, norms, 1.0)).astype(np.float32)


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
