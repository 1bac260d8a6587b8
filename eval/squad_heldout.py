"""Write the held-out SQuAD 2.0 question set: the reader's 3 held-out articles as a docqa corpus.

    python eval/squad_heldout.py      # -> eval/data/squad2/heldout/{docs,questions}.jsonl

The articles are the ones ``make train-reader`` holds out whole (its model card names them), so
neither the reader nor any fitted setting has seen them. Each paragraph becomes one document;
each question keeps its answers (answerable) or none (SQuAD 2.0's unanswerable questions,
written to look answerable from their paragraph). ``docqa eval`` reads both files.
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "eval" / "data" / "squad2" / "dev-8-articles.json"
CARD = ROOT / "src" / "docqa" / "reader" / "weights" / "reader.json"
OUT = ROOT / "eval" / "data" / "squad2" / "heldout"


def main() -> None:
    held = set(json.loads(CARD.read_text(encoding="utf-8"))["data"]["held_out_articles"])
    docs, questions = [], []
    for article in json.loads(SOURCE.read_text(encoding="utf-8"))["data"]:
        if article["title"] not in held:
            continue
        for number, paragraph in enumerate(article["paragraphs"]):
            doc_id = f"squad-{article['title']}-{number:03d}"
            title = article["title"].replace("_", " ")
            docs.append({"doc_id": doc_id, "title": title, "text": paragraph["context"]})
            for qa in paragraph["qas"]:
                answers = list(dict.fromkeys(a["text"] for a in qa["answers"]))
                questions.append(
                    {
                        "qid": qa["id"],
                        "question": qa["question"].strip(),
                        "answerable": not qa["is_impossible"],
                        "answers": answers,
                        "gold_doc_ids": [doc_id] if answers else [],
                    }
                )
    OUT.mkdir(parents=True, exist_ok=True)
    for name, rows in (("docs.jsonl", docs), ("questions.jsonl", questions)):
        lines = (json.dumps(row, ensure_ascii=False) for row in rows)
        (OUT / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    answerable = sum(q["answerable"] for q in questions)
    print(f"{len(docs)} paragraphs, {len(questions)} questions ({answerable} answerable) -> {OUT}")


if __name__ == "__main__":
    main()
