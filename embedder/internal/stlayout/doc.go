// Package stlayout holds what every transformer family shares about the
// sentence-transformers model layout: reading a model directory's
// configuration (ReadModelConfig: vecbolt.json, else modules.json,
// 1_Pooling/config.json, sentence_bert_config.json and the prompts of
// config_sentence_transformers.json) and pooling token vectors into one
// (PoolInto, NormalizeL2, CheckFinite).
//
// It is internal because its users are the embedder families (embedder/onnx
// today, the pure-Go encoder next), and what applications see of it is
// already public in package embedder: the ModelConfig it returns and the
// Pooling names. Invariants: every configuration it returns has passed
// ModelConfig.Validate; every configuration file is bounded in size;
// pooling follows sentence-transformers (mean over the attention mask with
// a clamped divisor, or the first token) and never divides by zero.
package stlayout
