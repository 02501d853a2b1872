// Package static runs static embedding models: one vector per vocabulary
// token, a text's vector the weighted mean of its tokens' vectors. It reads
// the Model2Vec / sentence-transformers StaticEmbedding layout
// (model.safetensors, tokenizer.json, config.json; Load, LoadFS) or builds a
// model from a tokenizer and a matrix (New). It is pure Go and the family
// of the built-in model (embedder/builtin).
//
// Invariants: a Model is immutable and safe for concurrent use; every text
// that is not empty gets a finite vector of length Dim (see Model for the
// character n-gram fallback and WithFallback); the identity hashes the
// vocabulary, matrix, weights, mapping and normalization.
package static
