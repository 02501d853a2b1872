// Package static runs static embedding models: one vector per vocabulary
// entry, a text's vector the weighted mean of its entries' vectors. It is
// pure Go and the family of the built-in model (embedder/builtin). Two
// kinds of model live here:
//
//   - Model: a WordPiece tokenizer and a token matrix, read from the
//     Model2Vec / sentence-transformers StaticEmbedding layout
//     (model.safetensors, tokenizer.json, config.json; Load, LoadFS) or
//     built from a tokenizer and a matrix (New).
//   - WordVectors: a word → vector table read from a word2vec (text or
//     binary), GloVe or fastText .vec file, plain or gzip-compressed, the
//     format detected from the content (LoadWordVectors, ReadWordVectors).
//
// Both take the same Option values (WithName, WithNormalize,
// WithMaxTokens, WithFallback); an option that means nothing to one kind
// (WithWeights for word vectors, WithSIF for a Model) is refused, not
// ignored.
//
// # Model2Vec
//
// A Model2Vec directory embeds as the model2vec library's
// StaticModel.encode does (model2vec/model.py in MinishLab/model2vec,
// methods tokenize, _encode_batch and _encode_helper; the loader is
// load_pretrained in model2vec/hf_utils.py):
//
//  1. tokenize with tokenizer.json, add_special_tokens=False (no [CLS] or
//     [SEP]);
//  2. drop every [UNK] (the id of the tokenizer model's unk_token);
//  3. look each remaining id up: row mapping[id] of "embeddings" when
//     model.safetensors has a "mapping" tensor (vocabulary quantization),
//     else row id; multiply it by weights[id] when there is a "weights"
//     tensor;
//  4. average over the number of ids (zero-weight ids count);
//  5. if config.json's "normalize" is true, divide by the L2 norm
//     (model2vec adds 1e-32 to the norm, which changes nothing here).
//
// The differences, all deliberate:
//   - Truncation: encode's default max_length=512 cuts the text to
//     512 × median token length characters, then keeps the first 512 ids
//     after step 2. vecbolt embeds whole texts by default (a static model
//     has no position limit); WithModel2VecMaxLength(512) does exactly
//     what encode does.
//   - A text with no id left after step 2: model2vec returns the zero
//     vector, which cannot be normalized or found by cosine similarity;
//     Model returns the character n-gram fallback (see Model), or
//     ErrNoTokens with WithFallback(false).
//   - A config.json without "normalize": model2vec does not normalize;
//     Load does (and a directory without config.json, which model2vec
//     refuses, loads normalized). model2vec always writes the key
//     (StaticModel's normalize setter stores it in the config), so this
//     only concerns directories made by hand. Cosine similarity is the
//     same either way.
//   - tokenizer.json's truncation and padding blocks are ignored (see
//     embedder/tokenizer); model2vec's Tokenizer would apply them.
//
// config.json's other fields (apply_pca, apply_zipf, hidden_dim,
// seq_length, tokenizer_name) describe how the model was distilled;
// the PCA and Zipf weighting are already in the stored rows and weights.
// hidden_dim, when present, must match the matrix.
//
// Invariants: models are immutable and safe for concurrent use; every
// text that is not blank gets a finite vector of length Dim (see Model for
// the character n-gram fallback and WithFallback); the identity hashes the
// model's content (files, or vocabulary and matrix for New) and every
// option that changes vectors except the truncation limits (WithMaxTokens,
// WithModel2VecMaxLength), which change only texts longer than the limit.
package static
