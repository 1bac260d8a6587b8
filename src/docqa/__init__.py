"""docqa: offline question answering over a folder of documents, with exact citations.

The core imports neither the web UI (``docqa.web``, the ``[web]`` extra) nor the evaluation
(``docqa.evaluation``, the ``[eval]`` extra).

Example:
    >>> from docqa import DocQA, ask
    >>> qa = DocQA(corpus_dir="corpus", index_dir=".docqa")
    >>> qa.ingest().summary()
    >>> qa.ask("Who led the Iraqi delegation?").text
"""

from __future__ import annotations

import os

# Offline by design: set before chromadb, transformers or gradio are imported anywhere.
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from docqa.abstention import Decision  # noqa: E402
from docqa.answerers import Answerer, Draft  # noqa: E402
from docqa.api import DocQA, ask  # noqa: E402
from docqa.errors import DocQAError  # noqa: E402
from docqa.evidence import Evidence  # noqa: E402
from docqa.models import (  # noqa: E402
    ABSTENTION_TEXT,
    AbstentionCode,
    AbstentionReason,
    Answer,
    Chunk,
    Citation,
    Document,
    IngestReport,
)
from docqa.settings import Settings  # noqa: E402

__all__ = [
    "ABSTENTION_TEXT",
    "AbstentionCode",
    "AbstentionReason",
    "Answer",
    "Answerer",
    "Chunk",
    "Citation",
    "Decision",
    "DocQA",
    "DocQAError",
    "Document",
    "Draft",
    "Evidence",
    "IngestReport",
    "Settings",
    "ask",
]
__version__ = "0.1.0"
