"""``python -m docqa.onnx_export``: export the bundled encoder and the reader to ONNX graphs.

Run by ``make install`` (and again by ``make`` whenever the reader's weights change), never while
answering: about 10 s on two cores. Each graph is written in float from the weights
(``onnx_graph``), then its matrix products are quantised to int8 (ONNX Runtime's dynamic
quantisation: int8 weights per output channel, each text's inputs scaled per run), except the
feed-forward down projections, which read GELU's long-tailed outputs and lost the most accuracy
when quantised. Measured on 1,200 ClapNQ texts run one by one: every vector within cosine 0.991
of the float model's (0.984 with the down projections quantised too), ~2.5x faster than torch on
two cores. The encoder keeps its float graph too, for questions and short texts
(``onnx_runtime``); the reader runs in int8 alone.
A graph is checked against the NumPy forward pass of the same weights before it is kept, then
written with its SHA-256 and its source into the manifest ``docqa.onnx_runtime`` checks at load.
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from docqa.bert_encoder import BertEncoder
from docqa.fileio import atomic_write, file_sha256
from docqa.onnx_graph import bert_graph, down_projection
from docqa.onnx_runtime import (
    ENCODER,
    EXPORT_DIR,
    FLOAT,
    INT8,
    MANIFEST,
    READER,
    OnnxBert,
    encoder_source,
    read_manifest,
    reader_source,
)

# Lowest cosine, graph against NumPy, of a check text's mean token state: int8 stays above ~0.99,
# a wrong graph falls far below.
PARITY = 0.98
_CHECK_TEXTS = [
    ("Who led the Iraqi delegation?", "The delegation was led by the National Security Adviser."),
    ("When?", "x"),
    ("A longer question about the alliance and its mission in Iraq " * 4, "Short."),
]


def parity(encoder: BertEncoder, runner: OnnxBert) -> float:
    """The lowest cosine between the graph's and NumPy's mean token states on padded batches."""
    encoded = encoder.tokenizer.encode_batch(_CHECK_TEXTS)
    ids = np.array([e.ids for e in encoded], dtype=np.int64)
    types = np.array([e.type_ids for e in encoded], dtype=np.int64)
    mask = np.array([e.attention_mask for e in encoded], dtype=np.float32)
    weights = mask[:, :, None] / mask.sum(1)[:, None, None]
    want = (encoder._layers_numpy(ids, types, mask) * weights).sum(1)
    got = (runner(ids, types, mask) * weights).sum(1)
    cosines = (want * got).sum(1) / np.linalg.norm(want, axis=1) / np.linalg.norm(got, axis=1)
    return float(cosines.min())


def _quantise(float_graph: Path, int8_graph: Path, layers: int) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.disable(logging.WARNING)  # the quantiser's generic advice on every run
    try:
        quantize_dynamic(
            float_graph,
            int8_graph,
            weight_type=QuantType.QInt8,
            per_channel=True,
            nodes_to_exclude=[down_projection(i) for i in range(layers)],
            # The contrib operators' outputs have no inferred type; they are all float.
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    finally:
        logging.disable(logging.NOTSET)


def export(
    name: str, encoder: BertEncoder, source: str, folder: Path, *, keep_float: bool
) -> dict[str, Any]:
    """Write ``<name>-int8.onnx`` (and, with ``keep_float``, ``<name>.onnx``) into ``folder``;
    return the model's manifest entry.

    Raises:
        RuntimeError: when the graphs do not reproduce the NumPy forward pass.
    """
    folder.mkdir(parents=True, exist_ok=True)
    files = {INT8: f"{name}-int8.onnx", **({FLOAT: f"{name}.onnx"} if keep_float else {})}
    with tempfile.TemporaryDirectory(dir=folder) as work:
        staged = {precision: Path(work) / file for precision, file in files.items()}
        float_graph = staged.get(FLOAT, Path(work) / "float.onnx")
        float_graph.write_bytes(bert_graph(encoder, name).SerializeToString())
        _quantise(float_graph, staged[INT8], encoder.num_layers)
        cosine = parity(encoder, OnnxBert(staged))
        if cosine < PARITY:
            raise RuntimeError(f"The exported {name} is off the NumPy model (cosine {cosine}).")
        for precision, file in files.items():
            atomic_write(folder / file, staged[precision].read_bytes())
    return {
        "source": source,
        "files": files,
        "sha256": {precision: file_sha256(folder / file) for precision, file in files.items()},
    }


def export_all(folder: Path = EXPORT_DIR) -> dict[str, dict[str, Any]]:
    """Export the encoder (float and int8) and the reader (int8); the manifest is written last
    (a crash leaves the old manifest, whose hashes then refuse the half-written files)."""
    from docqa.embeddings import BUNDLED_MODEL, resolve_model_path
    from docqa.reader.reading import WEIGHTS_DIR, Reader

    base = resolve_model_path(BUNDLED_MODEL)
    reader = Reader(WEIGHTS_DIR, base)
    entries = {
        ENCODER: export(ENCODER, BertEncoder(base), encoder_source(base), folder, keep_float=True),
        READER: export(
            READER, reader.encoder, reader_source(base, reader.sha256), folder, keep_float=False
        ),
    }
    atomic_write(folder / MANIFEST, json.dumps(entries, indent=2) + "\n")
    return entries


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m docqa.onnx_export", description=__doc__)
    parser.add_argument("--out", type=Path, default=EXPORT_DIR, help="folder to write into")
    args = parser.parse_args(argv)
    started = time.monotonic()
    export_all(args.out)
    for name, entry in read_manifest(args.out).items():
        for precision, file in entry.files.items():
            size = (args.out / file).stat().st_size / 1e6
            digest = entry.sha256[precision][:12]
            print(f"{name} ({precision}): {args.out / file} ({size:.1f} MB, sha256 {digest}…)")
    print(f"Exported in {time.monotonic() - started:.1f} s.")


if __name__ == "__main__":
    main()
