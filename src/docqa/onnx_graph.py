"""BERT as an ONNX graph, written from the weights ``BertEncoder`` holds (no torch exporter).

The graph uses ONNX Runtime's fused CPU kernels directly: ``Attention`` (query, key and value in
one product, the softmax and the mask in one kernel), ``SkipLayerNormalization`` (residual, bias
and layer norm in one pass) and ``BiasGelu`` (bias and the exact erf GELU). Its one output is the
last layer's token states ``(batch, tokens, hidden)``: mean pooling and the reader's heads stay in
NumPy, where they cost microseconds.

Built by ``python -m docqa.onnx_export`` (``make install``), never while answering; in float it
matches ``BertEncoder``'s own forward pass to ~1e-6 (tests/test_onnx_runtime.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np

# ONNX Runtime's contrib operators (Attention, SkipLayerNormalization, BiasGelu) live here.
MICROSOFT = "com.microsoft"
OPSET = 17  # LayerNormalization is standard from 17
INPUTS = ("input_ids", "token_type_ids", "attention_mask")
OUTPUT = "hidden_states"


def down_projection(layer: int) -> str:
    """The name of a layer's feed-forward down projection (``onnx_export`` keeps it in float)."""
    return f"l{layer}_down"


def bert_graph(encoder: Any, name: str) -> Any:
    """The ``onnx.ModelProto`` of ``encoder`` (a ``docqa.bert_encoder.BertEncoder``)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w, linear = encoder.weights, encoder.linear
    hidden, eps = encoder.hidden, encoder.eps
    initializers: list[Any] = []
    nodes: list[Any] = []

    def const(key: str, value: np.ndarray) -> str:
        initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), key))
        return key

    def node(op: str, inputs: list[str], output: str, *, domain: str = "", **attrs: Any) -> str:
        nodes.append(helper.make_node(op, inputs, [output], name=output, domain=domain, **attrs))
        return output

    # Embeddings: word + position (the first `tokens` rows of the table) + token type, then norm.
    words = node(
        "Gather",
        [const("word_table", w["embeddings.word_embeddings.weight"]), "input_ids"],
        "words",
    )
    types = node(
        "Gather",
        [const("type_table", w["embeddings.token_type_embeddings.weight"]), "token_type_ids"],
        "types",
    )
    shape = node("Shape", ["input_ids"], "ids_shape")
    tokens = node(
        "Slice",
        [shape, const("one", np.array([1], np.int64)), const("two", np.array([2], np.int64))],
        "tokens",
    )
    positions = node(
        "Slice",
        [
            const("position_table", w["embeddings.position_embeddings.weight"]),
            const("zero", np.array([0], np.int64)),
            tokens,
            const("axis0", np.array([0], np.int64)),
        ],
        "positions",
    )
    summed = node("Add", [node("Add", [words, types], "words_types"), positions], "embedded")
    h = node(
        "LayerNormalization",
        [
            summed,
            const("emb_ln_w", w["embeddings.LayerNorm.weight"]),
            const("emb_ln_b", w["embeddings.LayerNorm.bias"]),
        ],
        "emb_out",
        axis=-1,
        epsilon=eps,
    )
    mask = node("Cast", ["attention_mask"], "mask_i32", to=TensorProto.INT32)

    def skip_norm(
        x: str, skip: str, norm: str, key: str, bias: np.ndarray, bias_key: str, output: str
    ) -> str:
        """LayerNorm(x + bias + skip) with the weights of ``norm``, in one fused kernel."""
        inputs = [x, skip, const(f"{key}_w", w[norm + ".weight"])]
        inputs += [const(f"{key}_b", w[norm + ".bias"]), const(bias_key, bias)]
        return node("SkipLayerNormalization", inputs, output, domain=MICROSOFT, epsilon=eps)

    for i in range(encoder.num_layers):
        p = f"encoder.layer.{i}."
        qkv_w, qkv_b = linear[p + "attention.self.qkv"]
        out_w, out_b = linear[p + "attention.output.dense"]
        up_w, up_b = linear[p + "intermediate.dense"]
        down_w, down_b = linear[p + "output.dense"]
        context = node(
            "Attention",
            [h, const(f"l{i}_qkv_w", qkv_w), const(f"l{i}_qkv_b", qkv_b), mask],
            f"l{i}_context",
            domain=MICROSOFT,
            num_heads=encoder.num_heads,
        )
        projected = node("MatMul", [context, const(f"l{i}_out_w", out_w)], f"l{i}_projected")
        a = skip_norm(
            projected,
            h,
            p + "attention.output.LayerNorm",
            f"l{i}_ln1",
            out_b,
            f"l{i}_out_b",
            f"l{i}_attended",
        )
        up = node("MatMul", [a, const(f"l{i}_up_w", up_w)], f"l{i}_up")
        act = node("BiasGelu", [up, const(f"l{i}_up_b", up_b)], f"l{i}_gelu", domain=MICROSOFT)
        down = node("MatMul", [act, const(f"l{i}_down_w", down_w)], down_projection(i))
        last = i == encoder.num_layers - 1
        h = skip_norm(
            down,
            a,
            p + "output.LayerNorm",
            f"l{i}_ln2",
            down_b,
            f"l{i}_down_b",
            OUTPUT if last else f"l{i}_out",
        )

    dims = ["batch", "tokens"]
    graph = helper.make_graph(
        nodes,
        name,
        [helper.make_tensor_value_info(n, TensorProto.INT64, dims) for n in INPUTS],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, [*dims, hidden])],
        initializers,
    )
    opsets = [helper.make_opsetid("", OPSET), helper.make_opsetid(MICROSOFT, 1)]
    model = helper.make_model(graph, opset_imports=opsets, producer_name="docqa")
    onnx.checker.check_model(model)
    return model
