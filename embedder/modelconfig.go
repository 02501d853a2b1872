package embedder

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
)

// ConfigFileName is vecbolt's own model configuration file in a model
// directory. When present it is authoritative; otherwise the
// sentence-transformers files (modules.json, the pooling module's
// config.json, sentence_bert_config.json, config_sentence_transformers.json)
// are read.
const ConfigFileName = "vecbolt.json"

// ModelConfig holds the facts about a transformer model that are not in its
// weights: how to pool, whether to normalize, how many tokens it reads, and
// the prefixes that tell asymmetric models (bge, e5) queries from documents.
type ModelConfig struct {
	// Name is the model's name in Identity; empty means the directory name.
	Name string `json:"name,omitempty"`
	// Model is the ONNX file relative to the directory; empty means
	// "model.onnx", or "onnx/model.onnx" as the Hugging Face exports lay it out.
	Model string `json:"model,omitempty"`
	// Pooling is "mean" or "cls".
	Pooling Pooling `json:"pooling"`
	// Normalize L2-normalizes every vector.
	Normalize bool `json:"normalize"`
	// MaxSeqLength is the most tokens fed to the model, counting [CLS] and
	// [SEP]; longer texts are truncated (and counted in Stats).
	MaxSeqLength int `json:"max_seq_length"`
	// QueryPrefix is prepended to every query (bge's instruction, e5's "query: ").
	QueryPrefix string `json:"query_prefix,omitempty"`
	// DocumentPrefix is prepended to every document (e5's "passage: ").
	DocumentPrefix string `json:"document_prefix,omitempty"`
}

// Pooling names how a transformer's token vectors become one text vector.
type Pooling string

const (
	// PoolingMean averages the token vectors where the attention mask is 1
	// (sentence-transformers' pooling_mode_mean_tokens; all-MiniLM, e5, gte).
	PoolingMean Pooling = "mean"
	// PoolingCLS takes the first token's vector (pooling_mode_cls_token; bge).
	PoolingCLS Pooling = "cls"
)

// ErrModelConfig is returned for a model directory whose configuration
// files are malformed or ask for something unsupported.
var ErrModelConfig = errors.New("embedder: invalid model configuration")

// ParsePooling validates a pooling name from a configuration file or option.
func ParsePooling(s string) (Pooling, error) {
	switch Pooling(s) {
	case PoolingMean, PoolingCLS:
		return Pooling(s), nil
	}
	return "", fmt.Errorf("unsupported pooling %q (want %q or %q)", s, PoolingMean, PoolingCLS)
}

// Validate checks the facts every loader relies on; file names where c
// came from in the error, which wraps ErrModelConfig.
func (c ModelConfig) Validate(file string) error {
	if _, err := ParsePooling(string(c.Pooling)); err != nil {
		return configErr(file, "%v", err)
	}
	if c.MaxSeqLength < 2 || c.MaxSeqLength > 1<<16 {
		return configErr(file, "max_seq_length %d out of range [2, 65536] (it counts [CLS] and [SEP])", c.MaxSeqLength)
	}
	if c.Model != "" && (filepath.IsAbs(c.Model) || !fs.ValidPath(filepath.ToSlash(c.Model))) {
		return configErr(file, "model path %q must be relative and inside the model directory", c.Model)
	}
	return nil
}

func configErr(file string, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrModelConfig, file, fmt.Sprintf(format, args...))
}
