"""The reader: a cross-encoder that reads a question and a sentence together.

It starts from the bundled all-MiniLM-L6-v2 weights (``[CLS] question [SEP] sentence``). Two
heads read the last layer: the ``[CLS]`` state through one linear layer to one logit (does this
sentence answer the question?), and every token's state through another to a start and an end
logit (where is the answer phrase inside the sentence?).
The word-embedding matrix stays frozen at the bundled values, so the saved weights hold only what
training changed (the six layers, position and type embeddings, and the head): about 21 MB in
fp16 instead of 90 MB. Loading checks the file's SHA-256 against the model card.

Training-side only for now (torch and transformers); imported by ``docqa.reader.train``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from tokenizers import Tokenizer
from torch import nn

from docqa.fileio import file_sha256

FROZEN = ("embeddings.word_embeddings.weight",)
WEIGHTS_FILE = "reader.safetensors"
CARD_FILE = "reader.json"


class CrossEncoder(nn.Module):
    """BERT encoder + a linear head on the ``[CLS]`` state + a start/end head on every token."""

    def __init__(self, base: Path) -> None:
        super().__init__()
        from transformers import BertConfig, BertModel
        from transformers.utils import logging

        logging.set_verbosity_error()  # the unused pooler weights are expected, not news
        config = BertConfig.from_pretrained(base)
        self.bert = BertModel.from_pretrained(base, config=config, add_pooling_layer=False)
        self.head = nn.Linear(config.hidden_size, 1)
        self.span = nn.Linear(config.hidden_size, 2)
        for name, param in self.bert.named_parameters():
            param.requires_grad = name not in FROZEN

    def forward(
        self, batch: dict[str, torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(answer logit per pair, start logits, end logits per token)``.

        Start and end logits are pushed to -1e4 outside the sentence (the question, the
        separators and padding): the answer phrase can only lie in the sentence.
        """
        hidden = self.bert(**batch).last_hidden_state
        logits: torch.Tensor = self.head(hidden[:, 0]).squeeze(-1)
        start, end = self.span(hidden).unbind(-1)
        outside = (batch["token_type_ids"] == 0) | (batch["attention_mask"] == 0)
        return logits, start.masked_fill(outside, -1e4), end.masked_fill(outside, -1e4)


class PairTokenizer:
    """``[CLS] question [SEP] sentence [SEP]``, at most ``max_tokens``, the sentence cut first."""

    def __init__(self, base: Path, max_tokens: int) -> None:
        self.tokenizer = Tokenizer.from_file(str(base / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_tokens, strategy="longest_first")
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106 - a token, not a secret

    def __call__(self, questions: list[str], sentences: list[str]) -> dict[str, torch.Tensor]:
        return self.tensors(self.encode(questions, sentences))

    def encode(self, questions: list[str], sentences: list[str]) -> list[Any]:
        """The ``tokenizers`` encodings (their offsets map tokens back to characters)."""
        return list(self.tokenizer.encode_batch(list(zip(questions, sentences, strict=True))))

    @staticmethod
    def tensors(encoded: list[Any]) -> dict[str, torch.Tensor]:
        """The model's input tensors for ``encode``'s encodings."""
        return {
            "input_ids": torch.tensor([e.ids for e in encoded]),
            "attention_mask": torch.tensor([e.attention_mask for e in encoded]),
            "token_type_ids": torch.tensor([e.type_ids for e in encoded]),
        }


def trained_state(model: CrossEncoder) -> dict[str, torch.Tensor]:
    """The parameters training changed, in fp16 (the frozen embedding matrix left out)."""
    state = {f"bert.{k}": v for k, v in model.bert.state_dict().items() if k not in FROZEN}
    state.update({f"head.{k}": v for k, v in model.head.state_dict().items()})
    state.update({f"span.{k}": v for k, v in model.span.state_dict().items()})
    return {k: v.detach().to(torch.float16).contiguous() for k, v in state.items()}


def save(model: CrossEncoder, out: Path, card: dict[str, Any]) -> dict[str, Any]:
    """Write the weights and the model card into ``out``; the card, with the weights' SHA-256."""
    out.mkdir(parents=True, exist_ok=True)
    weights = out / WEIGHTS_FILE
    save_file(trained_state(model), str(weights))
    card = {**card, "weights": WEIGHTS_FILE, "sha256": file_sha256(weights)}
    (out / CARD_FILE).write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    return card


def load(folder: Path, base: Path) -> CrossEncoder:
    """The reader saved in ``folder``, on top of the bundled weights in ``base``.

    Raises:
        ValueError: when the weights do not match the model card's SHA-256 (a corrupt or
            replaced file): retrain with ``make train-reader`` or restore the file.
    """
    card = json.loads((folder / CARD_FILE).read_text(encoding="utf-8"))
    weights = folder / card["weights"]
    if file_sha256(weights) != card["sha256"]:
        raise ValueError(
            f"{weights} does not match the SHA-256 in {folder / CARD_FILE}: the file is corrupt "
            "or was replaced. Restore it from the repository or run 'make train-reader'."
        )
    model = CrossEncoder(base)
    state = {k: v.float() for k, v in load_file(str(weights)).items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or set(missing) != {f"bert.{k}" for k in FROZEN}:
        raise ValueError(
            f"{weights} does not fit the reader: missing {missing}, extra {unexpected}"
        )
    model.eval()
    return model
