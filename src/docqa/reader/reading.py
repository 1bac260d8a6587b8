"""The reader at question time: reads the question with each candidate sentence.

The shipped weights (``weights/reader.safetensors``, only the layers training changed, fp16) are
laid over the bundled all-MiniLM-L6-v2 weights and run by docqa's own BERT forward pass
(``bert_encoder``, in torch or NumPy: no transformers import). The file's SHA-256 must match the
model card (``weights/reader.json``): a corrupt or replaced file is refused with a message naming
the fix, never read.

Example:
    >>> reader = load_reader()
    >>> [r.probability for r in reader.read("Who designed the bridge?", sentences)]
"""

from __future__ import annotations

import contextlib
import json
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from docqa.bert_encoder import BertEncoder
from docqa.errors import ConfigurationError
from docqa.fileio import file_sha256
from docqa.reader.spans import Phrase, best_phrase

WEIGHTS_DIR = Path(__file__).with_name("weights")
CARD_FILE = "reader.json"
HEADS = ("head.weight", "head.bias", "span.weight", "span.bias")


@dataclass(frozen=True)
class SentenceReading:
    """What the reader made of one sentence.

    Attributes:
        probability: That the sentence answers the question (0..1).
        logit: The same judgement before the sigmoid (what calibration reads).
        phrase: The answer phrase inside the sentence (characters relative to it), or None.
    """

    probability: float
    logit: float
    phrase: Phrase | None


class Reader:
    """The trained reader: ``read(question, sentences)`` -> one ``SentenceReading`` each.

    Args:
        folder: Holds ``reader.json`` (the model card) and the weights it names.
        base: The bundled all-MiniLM-L6-v2 folder the weights were trained on top of.

    Raises:
        ConfigurationError: when the card is missing or the weights fail their SHA-256 check.
    """

    def __init__(self, folder: Path, base: Path) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        card_path = folder / CARD_FILE
        if not card_path.is_file():
            raise ConfigurationError(
                f"The reader's model card {card_path} is missing: restore it from the "
                "repository, or run 'make train-reader' and copy its output there."
            )
        self.card = json.loads(card_path.read_text(encoding="utf-8"))
        weights = folder / self.card["weights"]
        if not weights.is_file() or file_sha256(weights) != self.card["sha256"]:
            raise ConfigurationError(
                f"{weights} is missing or does not match the SHA-256 in {card_path}: restore it "
                "from the repository (git checkout -- src/docqa/reader/weights) or run "
                "'make train-reader'."
            )
        state = {k: v.astype(np.float32) for k, v in load_file(str(weights)).items()}
        missing = [name for name in HEADS if name not in state]
        if missing:
            raise ConfigurationError(f"{weights} lacks {missing}: run 'make train-reader'.")
        self.answer_w = state.pop("head.weight")[0]
        self.answer_b = float(state.pop("head.bias")[0])
        self.span_w = state.pop("span.weight")
        self.span_b = state.pop("span.bias")
        self.encoder = BertEncoder(base, overrides=state)
        self.tokenizer = Tokenizer.from_file(str(base / "tokenizer.json"))
        max_tokens = int(self.card.get("config", {}).get("max_tokens", 96))
        self.tokenizer.enable_truncation(max_tokens, strategy="longest_first")
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106 - a token
        self._lock = threading.Lock()  # NumPy/torch forward passes are not re-entrant here

    @property
    def sha256(self) -> str:
        """The weights' SHA-256 (from the model card, checked at load)."""
        return str(self.card["sha256"])

    def read(
        self, question: str, sentences: Sequence[str], *, use_torch: bool = True
    ) -> list[SentenceReading]:
        """The reader's judgement of each sentence, in the order given.

        ``use_torch``: torch reads 6 sentences (~280 tokens) in ~50 ms against ~110 ms for
        one-thread NumPy, but its import costs ~1.5 s once: worth it in a process that answers
        more than a question or two, not in a one-shot ``docqa ask``.
        """
        if not sentences:
            return []
        encoded = self.tokenizer.encode_batch([(question, s) for s in sentences])
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        types = np.array([e.type_ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.float32)
        with self._lock:
            hidden = self.encoder.hidden_states(ids, types, mask, use_torch=use_torch)
        logits = hidden[:, 0] @ self.answer_w + self.answer_b
        span = hidden @ self.span_w.T + self.span_b  # (batch, tokens, 2)
        out = []
        for row, enc in enumerate(encoded):
            pairs = zip(enc.type_ids, enc.attention_mask, strict=True)
            inside = [t == 1 and m == 1 for t, m in pairs]
            phrase = best_phrase(span[row, :, 0], span[row, :, 1], inside, enc.offsets)
            logit = float(logits[row])
            out.append(SentenceReading(_sigmoid(logit), logit, phrase))
        return out


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, x))))


_load_lock = threading.Lock()


def load_reader(folder: Path = WEIGHTS_DIR) -> Reader:
    """The shipped reader, loaded once per process (a second or two with torch's import);
    callers that arrive while another thread loads it wait for that one."""
    with _load_lock:
        return _load(folder)


@lru_cache(maxsize=1)
def _load(folder: Path) -> Reader:
    from docqa.embeddings import BUNDLED_MODEL, resolve_model_path
    from docqa.onnx_runtime import READER, load_exported, reader_source

    base = resolve_model_path(BUNDLED_MODEL)
    reader = Reader(folder, base)
    if folder == WEIGHTS_DIR:  # the weights `make install` exports (docqa.onnx_export)
        reader.encoder.use_runner(load_exported(READER, reader_source(base, reader.sha256)))
    return reader


def preload_reader() -> None:
    """Load the reader and warm up torch in a background thread (``DocQA`` starts it when the
    reader runs in torch), so that the first question rarely waits for torch's import. Errors are
    not raised here: the first question loads the reader again and reports them.
    """

    def warm() -> None:
        with contextlib.suppress(Exception):  # the first question reports it instead
            load_reader().read("warm up", ["warm up"])

    threading.Thread(target=warm, name="docqa-reader-preload", daemon=True).start()
