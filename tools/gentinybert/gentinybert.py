#!/usr/bin/python3
"""gentinybert: write the tiny BERT test model that vecbolt's ONNX embedder
tests run on ONNX Runtime.

No pretrained model can be downloaded on the project's build machines, so the
ONNX path is tested with a small network of the same architecture as the
sentence-transformers BERT exports (all-MiniLM-L6-v2 and friends): word +
position + token-type embeddings, LayerNorm, post-LN self-attention layers with
an additive attention mask, an erf-GELU feed-forward block. Weights are random
from a fixed seed, so the output is reproducible bit for bit with the same
numpy; the tests do not depend on that, because they recompute the forward pass
independently in Go from the initializers stored in model.onnx.

Inputs and output match the sentence-transformers export:
  input_ids, attention_mask, token_type_ids: int64 [batch, seq] (dynamic)
  last_hidden_state: float32 [batch, seq, hidden]

Run (Debian: apt-get install -y python3-onnx python3-numpy):
  /usr/bin/python3 tools/gentinybert/gentinybert.py embedder/testdata/tinybert

Benchmarks of a realistic size (not committed; about 44 MB):
  /usr/bin/python3 tools/gentinybert/gentinybert.py --shape minilm /tmp/minilm-shaped
gives all-MiniLM-L6-v2's shape (hidden 384, 6 layers, 12 heads, intermediate
1536, 512 positions) with the tiny vocabulary, so ONNX Runtime's share of the
time is what it would be for the real model.

The bge shape (--shape bge) is bge-small-en-v1.5's: the minilm shape with 12
layers, CLS pooling and 512 tokens. Both realistic shapes pad the vocabulary
to 30,522 tokens, so every tensor has the real model's exact shape.

Writes into the directory:
  model.onnx, tokenizer.json, modules.json, 1_Pooling/config.json,
  sentence_bert_config.json            the model directory the tests load
  model.safetensors, config.json       the same weights in the Hugging Face
                                       BertModel layout (embedder/bert)
  variants/model_notype.onnx           no token_type_ids input
  variants/model_badoutput.onnx        output named "embeddings" instead
  variants/model_dynhidden.onnx        hidden size left symbolic in the output
"""

import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SEED = 20261124
HIDDEN = 32
HEADS = 4
INTERMEDIATE = 64
LAYERS = 2
MAX_POS = 64
SHAPES = {
    "tiny": dict(HIDDEN=32, HEADS=4, INTERMEDIATE=64, LAYERS=2, MAX_POS=64),
    "minilm": dict(HIDDEN=384, HEADS=12, INTERMEDIATE=1536, LAYERS=6, MAX_POS=512),
    "bge": dict(HIDDEN=384, HEADS=12, INTERMEDIATE=1536, LAYERS=12, MAX_POS=512),
}
# The realistic shapes also get BERT's full vocabulary size: the tokenizer's
# vocabulary is padded with [unusedN] tokens so the word embedding table has
# all-MiniLM-L6-v2's exact shape [30522, 384].
FULL_VOCAB = 30522
# What sentence-transformers declares for each shape: pooling mode and
# max_seq_length. bge-small-en-v1.5 pools the [CLS] vector.
POOLING = {"tiny": ("mean", 32), "minilm": ("mean", 256), "bge": ("cls", 512)}
TYPE_VOCAB = 2
LN_EPS = 1e-12
OPSET = 17  # LayerNormalization needs 17

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
PUNCT = list(".,!?'\"-:;()")
WORDS = """
the a an of to and in is are was were be been it its this that these those
for on with as at by from or not no but if then than so very more most
i you he she we they me him her us them my your his our their
what which who when where why how all any some each every many much
can could will would should may might must do does did done have has had
go goes went make made take took see saw know knew think thought say said
get got give gave find found use used work works tell ask seem feel try
good new first last long great little own other old right big high small
large next early young important few public bad same able best better
time year people way day man woman child world life hand part place case
week company system program question government number night point home
water room mother area money story fact month lot study book eye job word
business issue side kind head house service friend father power hour game
line end member law car city community name president team minute idea
kid body information back parent face others level office door health
person art war history party result change morning reason research girl
guy moment air teacher force education food dog cat fox brown quick lazy
jumps over database vector search text model machine learning love
artificial intelligence amazing bananas yellow fast slow query document
embedding sentence run running runs walk walking play played red blue
green sky sun rain weather today tomorrow music movie computer phone
""".split()
SUBWORDS = ["##s", "##ed", "##ing", "##ly", "##er", "##est", "##ness",
            "##a", "##e", "##i", "##o", "##u", "##n", "##t", "##r", "##l"]
LETTERS = list("abcdefghijklmnopqrstuvwxyz0123456789")


def vocab(size=None):
    seen, out = set(), []
    for tok in SPECIALS + PUNCT + LETTERS + WORDS + SUBWORDS:
        if tok not in seen:
            seen.add(tok)
            out.append(tok)
    if size:
        out += [f"[unused{i}]" for i in range(size - len(out))]
    return out


def tokenizer_json(vocab_list):
    ids = {t: i for i, t in enumerate(vocab_list)}
    added = [{"id": ids[t], "content": t, "single_word": False, "lstrip": False,
              "rstrip": False, "normalized": False, "special": True}
             for t in SPECIALS]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "BertNormalizer", "clean_text": True,
                       "handle_chinese_chars": True, "strip_accents": None,
                       "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                       {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                     {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 0}},
                     {"Sequence": {"id": "B", "type_id": 1}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {
                "[CLS]": {"id": "[CLS]", "ids": [ids["[CLS]"]], "tokens": ["[CLS]"]},
                "[SEP]": {"id": "[SEP]", "ids": [ids["[SEP]"]], "tokens": ["[SEP]"]},
            },
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]",
                  "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": ids},
    }


def weights(vocab_size):
    rng = np.random.default_rng(SEED)

    # Keeps activations in range for wider shapes; 1 for the tiny model.
    width = np.sqrt(32 / HIDDEN)

    def normal(*shape, scale=0.2):
        if len(shape) == 2 and shape[0] in (HIDDEN, INTERMEDIATE):
            scale *= width
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    w = {
        "embeddings.word_embeddings.weight": normal(vocab_size, HIDDEN, scale=0.5),
        "embeddings.position_embeddings.weight": normal(MAX_POS, HIDDEN, scale=0.2),
        "embeddings.token_type_embeddings.weight": normal(TYPE_VOCAB, HIDDEN, scale=0.2),
        "embeddings.LayerNorm.weight": (1 + normal(HIDDEN, scale=0.1)),
        "embeddings.LayerNorm.bias": normal(HIDDEN, scale=0.1),
    }
    for l in range(LAYERS):
        p = f"encoder.layer.{l}."
        for n in ("query", "key", "value"):
            # Stored [in, out] so the graph computes x @ W + b.
            w[p + f"attention.self.{n}.weight"] = normal(HIDDEN, HIDDEN, scale=0.3)
            w[p + f"attention.self.{n}.bias"] = normal(HIDDEN, scale=0.1)
        w[p + "attention.output.dense.weight"] = normal(HIDDEN, HIDDEN, scale=0.3)
        w[p + "attention.output.dense.bias"] = normal(HIDDEN, scale=0.1)
        w[p + "attention.output.LayerNorm.weight"] = 1 + normal(HIDDEN, scale=0.1)
        w[p + "attention.output.LayerNorm.bias"] = normal(HIDDEN, scale=0.1)
        w[p + "intermediate.dense.weight"] = normal(HIDDEN, INTERMEDIATE, scale=0.3)
        w[p + "intermediate.dense.bias"] = normal(INTERMEDIATE, scale=0.1)
        w[p + "output.dense.weight"] = normal(INTERMEDIATE, HIDDEN, scale=0.2)
        w[p + "output.dense.bias"] = normal(HIDDEN, scale=0.1)
        w[p + "output.LayerNorm.weight"] = 1 + normal(HIDDEN, scale=0.1)
        w[p + "output.LayerNorm.bias"] = normal(HIDDEN, scale=0.1)
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in w.items()}


def build(w, with_token_types=True, output_name="last_hidden_state", hidden_dim=None):
    nodes, inits = [], []
    for name, arr in w.items():
        if not with_token_types and "token_type" in name:
            continue
        inits.append(numpy_helper.from_array(arr, name))

    def const(name, arr):
        inits.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    counter = [0]

    def node(op, inputs, **attrs):
        counter[0] += 1
        out = f"{op.lower()}_{counter[0]}"
        nodes.append(helper.make_node(op, inputs, [out], **attrs))
        return out

    hd = HIDDEN // HEADS
    c_zero = const("c_zero_i64", np.array(0, dtype=np.int64))
    c_one = const("c_one_i64", np.array(1, dtype=np.int64))
    c_idx1 = const("c_idx1", np.array([1], dtype=np.int64))
    c_onef = const("c_one_f", np.array(1.0, dtype=np.float32))
    c_neg = const("c_neg_f", np.array(-10000.0, dtype=np.float32))
    c_scale = const("c_scale_f", np.array(1.0 / np.sqrt(hd), dtype=np.float32))
    c_sqrt2 = const("c_sqrt2_f", np.array(np.sqrt(2.0), dtype=np.float32))
    c_half = const("c_half_f", np.array(0.5, dtype=np.float32))
    c_heads = const("c_heads_shape", np.array([0, 0, HEADS, hd], dtype=np.int64))
    c_merge = const("c_merge_shape", np.array([0, 0, HIDDEN], dtype=np.int64))
    c_maskaxes = const("c_mask_axes", np.array([1, 2], dtype=np.int64))

    # Embeddings.
    x = node("Gather", ["embeddings.word_embeddings.weight", "input_ids"], axis=0)
    shape = node("Shape", ["input_ids"])
    seq = node("Gather", [shape, c_idx1], axis=0)           # [1]
    seq_s = node("Squeeze", [seq])                           # scalar
    pos_ids = node("Range", [c_zero, seq_s, c_one])         # [seq]
    pos = node("Gather", ["embeddings.position_embeddings.weight", pos_ids], axis=0)
    x = node("Add", [x, pos])
    if with_token_types:
        tt = node("Gather", ["embeddings.token_type_embeddings.weight", "token_type_ids"], axis=0)
        x = node("Add", [x, tt])
    x = node("LayerNormalization", [x, "embeddings.LayerNorm.weight",
                                    "embeddings.LayerNorm.bias"], axis=-1, epsilon=LN_EPS)

    # Additive mask: 0 where attended, -10000 where padded, [batch,1,1,seq].
    m = node("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    m = node("Sub", [c_onef, m])
    m = node("Mul", [m, c_neg])
    m = node("Unsqueeze", [m, c_maskaxes])

    def dense(v, p):
        v = node("MatMul", [v, p + ".weight"])
        return node("Add", [v, p + ".bias"])

    def heads(v):
        v = node("Reshape", [v, c_heads])
        return node("Transpose", [v], perm=[0, 2, 1, 3])     # [b, h, s, d]

    for l in range(LAYERS):
        p = f"encoder.layer.{l}."
        q = heads(dense(x, p + "attention.self.query"))
        k = heads(dense(x, p + "attention.self.key"))
        v = heads(dense(x, p + "attention.self.value"))
        kt = node("Transpose", [k], perm=[0, 1, 3, 2])
        s = node("MatMul", [q, kt])
        s = node("Mul", [s, c_scale])
        s = node("Add", [s, m])
        a = node("Softmax", [s], axis=-1)
        c = node("MatMul", [a, v])
        c = node("Transpose", [c], perm=[0, 2, 1, 3])
        c = node("Reshape", [c, c_merge])
        o = dense(c, p + "attention.output.dense")
        x = node("LayerNormalization", [node("Add", [o, x]),
                                        p + "attention.output.LayerNorm.weight",
                                        p + "attention.output.LayerNorm.bias"],
                 axis=-1, epsilon=LN_EPS)
        h = dense(x, p + "intermediate.dense")
        g = node("Div", [h, c_sqrt2])
        g = node("Erf", [g])
        g = node("Add", [g, c_onef])
        g = node("Mul", [h, g])
        h = node("Mul", [g, c_half])
        o = dense(h, p + "output.dense")
        x = node("LayerNormalization", [node("Add", [o, x]),
                                        p + "output.LayerNorm.weight",
                                        p + "output.LayerNorm.bias"],
                 axis=-1, epsilon=LN_EPS)
    nodes.append(helper.make_node("Identity", [x], [output_name]))

    def int_input(name):
        return helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "sequence"])

    inputs = [int_input("input_ids"), int_input("attention_mask")]
    if with_token_types:
        inputs.append(int_input("token_type_ids"))
    outputs = [helper.make_tensor_value_info(output_name, TensorProto.FLOAT,
                                             ["batch", "sequence", hidden_dim or HIDDEN])]
    graph = helper.make_graph(nodes, "tinybert", inputs, outputs, inits)
    model = helper.make_model(graph, producer_name="vecbolt-gentinybert",
                              opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model, full_check=True)
    return model


def write_safetensors(path, w):
    """Writes the weights in Hugging Face BertModel's safetensors layout:
    Linear weights [out, in] (the ONNX graph multiplies by [in, out], so they
    are transposed back), tensors sorted by name, float32 little-endian."""
    tensors = {}
    for name, arr in w.items():
        if arr.ndim == 2 and not name.startswith("embeddings."):
            arr = arr.T
        tensors[name] = np.ascontiguousarray(arr, dtype="<f4")
    header, off = {}, 0
    for name in sorted(tensors):
        n = tensors[name].nbytes
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape),
                        "data_offsets": [off, off + n]}
        off += n
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(len(h).to_bytes(8, "little"))
        f.write(h)
        for name in sorted(tensors):
            f.write(tensors[name].tobytes())


def hf_config(vocab_size):
    return {
        "architectures": ["BertModel"], "model_type": "bert",
        "hidden_size": HIDDEN, "num_hidden_layers": LAYERS,
        "num_attention_heads": HEADS, "intermediate_size": INTERMEDIATE,
        "vocab_size": vocab_size, "max_position_embeddings": MAX_POS,
        "type_vocab_size": TYPE_VOCAB, "layer_norm_eps": LN_EPS,
        "hidden_act": "gelu", "position_embedding_type": "absolute",
        "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
        "initializer_range": 0.02, "pad_token_id": 0,
    }


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")


def main():
    args = sys.argv[1:]
    shape = "tiny"
    if len(args) == 3 and args[0] == "--shape" and args[1] in SHAPES:
        shape, args = args[1], args[2:]
    if len(args) != 1:
        sys.exit("usage: gentinybert.py [--shape tiny|minilm|bge] OUTDIR")
    globals().update(SHAPES[shape])
    out = args[0]
    os.makedirs(os.path.join(out, "1_Pooling"), exist_ok=True)
    v = vocab(None if shape == "tiny" else FULL_VOCAB)
    w = weights(len(v))
    onnx.save(build(w), os.path.join(out, "model.onnx"))
    # The same weights in the sentence-transformers layout, for the pure-Go
    # encoder (embedder/bert).
    write_safetensors(os.path.join(out, "model.safetensors"), w)
    write_json(os.path.join(out, "config.json"), hf_config(len(v)))
    pooling, max_len = POOLING[shape]
    if shape == "tiny":
        # The error-path variants matter only for the committed test model.
        os.makedirs(os.path.join(out, "variants"), exist_ok=True)
        onnx.save(build(w, with_token_types=False), os.path.join(out, "variants", "model_notype.onnx"))
        onnx.save(build(w, output_name="embeddings"), os.path.join(out, "variants", "model_badoutput.onnx"))
        onnx.save(build(w, hidden_dim="hidden"), os.path.join(out, "variants", "model_dynhidden.onnx"))
    write_json(os.path.join(out, "tokenizer.json"), tokenizer_json(v))
    write_json(os.path.join(out, "modules.json"), [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ])
    write_json(os.path.join(out, "1_Pooling", "config.json"), {
        "word_embedding_dimension": HIDDEN,
        "pooling_mode_cls_token": pooling == "cls",
        "pooling_mode_mean_tokens": pooling == "mean",
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
    })
    write_json(os.path.join(out, "sentence_bert_config.json"),
               {"max_seq_length": max_len, "do_lower_case": False})
    print(f"vocab {len(v)}, hidden {HIDDEN}, heads {HEADS}, layers {LAYERS}, "
          f"intermediate {INTERMEDIATE}, max positions {MAX_POS}")


if __name__ == "__main__":
    main()
