package embedder

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ConfigFileName is vecbolt's own model configuration file in a model
// directory. When present it is authoritative; otherwise the
// sentence-transformers files (modules.json, the pooling module's
// config.json, sentence_bert_config.json, config_sentence_transformers.json)
// are read.
const ConfigFileName = "vecbolt.json"

// maxConfigBytes bounds every configuration file read from a model
// directory: they are a few hundred bytes, so anything larger is not one.
const maxConfigBytes = 1 << 20

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

// Defaults used when a directory says nothing: sentence-transformers' own
// defaults for a BERT export (mean pooling, 512 positions). Normalization is
// on because the database compares by cosine.
const (
	defaultMaxSeqLength = 512
	defaultONNXFile     = "model.onnx"
)

// vecboltConfigFile is vecbolt.json as written on disk; pointers tell
// "absent" from "false/0".
type vecboltConfigFile struct {
	Name           string  `json:"name"`
	Model          string  `json:"model"`
	Pooling        string  `json:"pooling"`
	Normalize      *bool   `json:"normalize"`
	MaxSeqLength   *int    `json:"max_seq_length"`
	QueryPrefix    *string `json:"query_prefix"`
	DocumentPrefix *string `json:"document_prefix"`
}

// ErrModelConfig is returned for a model directory whose configuration
// files are malformed or ask for something unsupported.
var ErrModelConfig = errors.New("embedder: invalid model configuration")

func configErr(file string, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrModelConfig, file, fmt.Sprintf(format, args...))
}

// readSmallFile reads a configuration file, refusing huge ones. A missing
// file returns (nil, nil): every configuration file is optional.
func readSmallFile(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxConfigBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxConfigBytes {
		return nil, configErr(name, "larger than %d bytes", maxConfigBytes)
	}
	return b, nil
}

// ReadModelConfig reads a model directory's configuration: vecbolt.json if
// present, else the sentence-transformers files, else defaults (mean pooling,
// normalized, 512 tokens). It does not check that model.onnx exists.
func ReadModelConfig(dir string) (ModelConfig, error) {
	return readModelConfig(os.DirFS(dir))
}

func readModelConfig(fsys fs.FS) (ModelConfig, error) {
	cfg := ModelConfig{Pooling: PoolingMean, Normalize: true, MaxSeqLength: defaultMaxSeqLength}
	b, err := readSmallFile(fsys, ConfigFileName)
	if err != nil {
		return cfg, err
	}
	if b != nil {
		return parseVecboltConfig(b, cfg)
	}
	if err := readSentenceTransformersConfig(fsys, &cfg); err != nil {
		return cfg, err
	}
	return cfg, cfg.validate(ConfigFileName)
}

// parseVecboltConfig parses vecbolt.json over the defaults in cfg.
func parseVecboltConfig(b []byte, cfg ModelConfig) (ModelConfig, error) {
	var f vecboltConfigFile
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return cfg, configErr(ConfigFileName, "%v", err)
	}
	if dec.More() {
		return cfg, configErr(ConfigFileName, "trailing data after the JSON object")
	}
	cfg.Name = f.Name
	cfg.Model = f.Model
	if f.Pooling != "" {
		p, err := parsePooling(f.Pooling)
		if err != nil {
			return cfg, configErr(ConfigFileName, "%v", err)
		}
		cfg.Pooling = p
	}
	if f.Normalize != nil {
		cfg.Normalize = *f.Normalize
	}
	if f.MaxSeqLength != nil {
		cfg.MaxSeqLength = *f.MaxSeqLength
	}
	if f.QueryPrefix != nil {
		cfg.QueryPrefix = *f.QueryPrefix
	}
	if f.DocumentPrefix != nil {
		cfg.DocumentPrefix = *f.DocumentPrefix
	}
	return cfg, cfg.validate(ConfigFileName)
}

// validate checks the facts every loader relies on.
func (c ModelConfig) validate(file string) error {
	if _, err := parsePooling(string(c.Pooling)); err != nil {
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

// stModule is one entry of sentence-transformers' modules.json.
type stModule struct {
	Path string `json:"path"`
	Type string `json:"type"`
}

// stPooling is the pooling module's config.json.
type stPooling struct {
	CLS          bool `json:"pooling_mode_cls_token"`
	Mean         bool `json:"pooling_mode_mean_tokens"`
	Max          bool `json:"pooling_mode_max_tokens"`
	MeanSqrtLen  bool `json:"pooling_mode_mean_sqrt_len_tokens"`
	WeightedMean bool `json:"pooling_mode_weightedmean_tokens"`
	LastToken    bool `json:"pooling_mode_lasttoken"`
}

// readSentenceTransformersConfig fills cfg from the files a
// sentence-transformers model repository carries. Each is optional; what is
// present must parse.
func readSentenceTransformersConfig(fsys fs.FS, cfg *ModelConfig) error {
	poolingDir := "1_Pooling"
	b, err := readSmallFile(fsys, "modules.json")
	if err != nil {
		return err
	}
	if b != nil {
		var mods []stModule
		if err := json.Unmarshal(b, &mods); err != nil {
			return configErr("modules.json", "%v", err)
		}
		// The Normalize module is what makes sentence-transformers return
		// unit vectors; without it the model's vectors are raw.
		cfg.Normalize = false
		for _, m := range mods {
			switch {
			case strings.HasSuffix(m.Type, ".Pooling"):
				poolingDir = m.Path
			case strings.HasSuffix(m.Type, ".Normalize"):
				cfg.Normalize = true
			}
		}
		if poolingDir == "" || !fs.ValidPath(poolingDir) {
			return configErr("modules.json", "pooling module path %q is not a relative path inside the model directory", poolingDir)
		}
	}
	poolFile := poolingDir + "/config.json"
	b, err = readSmallFile(fsys, poolFile)
	if err != nil {
		return err
	}
	if b != nil {
		var p stPooling
		if err := json.Unmarshal(b, &p); err != nil {
			return configErr(poolFile, "%v", err)
		}
		switch {
		case p.Max || p.MeanSqrtLen || p.WeightedMean || p.LastToken:
			return configErr(poolFile, "only mean or CLS-token pooling is supported")
		case p.CLS && p.Mean:
			return configErr(poolFile, "several pooling modes at once (concatenated) are not supported")
		case p.CLS:
			cfg.Pooling = PoolingCLS
		case p.Mean:
			cfg.Pooling = PoolingMean
		default:
			return configErr(poolFile, "no pooling mode is enabled")
		}
	}
	b, err = readSmallFile(fsys, "sentence_bert_config.json")
	if err != nil {
		return err
	}
	if b != nil {
		var sb struct {
			MaxSeqLength *int `json:"max_seq_length"`
		}
		if err := json.Unmarshal(b, &sb); err != nil {
			return configErr("sentence_bert_config.json", "%v", err)
		}
		if sb.MaxSeqLength != nil {
			cfg.MaxSeqLength = *sb.MaxSeqLength
		}
	}
	b, err = readSmallFile(fsys, "config_sentence_transformers.json")
	if err != nil {
		return err
	}
	if b != nil {
		var cst struct {
			Prompts map[string]string `json:"prompts"`
		}
		if err := json.Unmarshal(b, &cst); err != nil {
			return configErr("config_sentence_transformers.json", "%v", err)
		}
		cfg.QueryPrefix = cst.Prompts["query"]
		for _, k := range []string{"document", "passage", "corpus"} {
			if v, ok := cst.Prompts[k]; ok {
				cfg.DocumentPrefix = v
				break
			}
		}
	}
	return nil
}
