"""The reader's training runs end to end on a tiny slice, and its weights load back exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def test_a_few_training_steps_write_weights_and_a_card_that_load_back(tmp_path: Path) -> None:
    import torch

    from docqa.embeddings import BUNDLED_MODEL, resolve_model_path
    from docqa.reader.model import CARD_FILE, PairTokenizer, load
    from docqa.reader.train import TrainConfig, score, train

    config = TrainConfig(max_pairs=64, batch_size=16, eval_questions=12, held_out_articles=2)
    card = train(config, tmp_path, log=False)

    saved = json.loads((tmp_path / CARD_FILE).read_text(encoding="utf-8"))
    assert saved["steps"] == 4 and saved["data"]["train_pairs"] == 64
    assert set(saved["data"]["held_out_articles"]).isdisjoint(
        {"Beyoncé", "Frédéric_Chopin"}  # training-set articles are never held out
    )
    assert saved["held_out"]["questions"] == 12
    assert card["sha256"] == saved["sha256"]
    # Same seed, same data, same threads: the same weights, bit for bit.
    assert train(config, tmp_path / "again", log=False)["sha256"] == card["sha256"]
    weights = tmp_path / saved["weights"]
    assert weights.stat().st_size < 50 * 2**20  # fits the repository's budget

    base = resolve_model_path(BUNDLED_MODEL)
    model = load(tmp_path, base)
    tokenizer = PairTokenizer(base, config.max_tokens)
    sentences = ["The bridge opened in 1932.", "Its designer was Ann Lee."]
    first = score(model, tokenizer, "Who designed the bridge?", sentences)
    again = score(load(tmp_path, base), tokenizer, "Who designed the bridge?", sentences)
    assert torch.equal(torch.from_numpy(first), torch.from_numpy(again))  # deterministic

    weights.write_bytes(weights.read_bytes()[:-8] + b"\0" * 8)
    with pytest.raises(ValueError, match="SHA-256"):
        load(tmp_path, base)
