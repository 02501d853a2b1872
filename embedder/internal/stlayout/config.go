package stlayout

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/vecbolt/vecbolt/embedder"
	"io"
	"io/fs"
	"os"
	"strings"
)

// maxConfigBytes bounds every configuration file read from a model
// directory: they are a few hundred bytes, so anything larger is not one.
const maxConfigBytes = 1 << 20

// Defaults used when a directory says nothing: sentence-transformers' own
// defaults for a BERT export (mean pooling, 512 positions). Normalization is
// on because the database compares by cosine.
const (
	DefaultMaxSeqLength = 512
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

func configErr(file string, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", embedder.ErrModelConfig, file, fmt.Sprintf(format, args...))
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
func ReadModelConfig(dir string) (embedder.ModelConfig, error) {
	return ReadModelConfigFS(os.DirFS(dir))
}

func ReadModelConfigFS(fsys fs.FS) (embedder.ModelConfig, error) {
	cfg := embedder.ModelConfig{Pooling: embedder.PoolingMean, Normalize: true, MaxSeqLength: DefaultMaxSeqLength}
	b, err := readSmallFile(fsys, embedder.ConfigFileName)
	if err != nil {
		return cfg, err
	}
	if b != nil {
		return parseVecboltConfig(b, cfg)
	}
	if err := readSentenceTransformersConfig(fsys, &cfg); err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate(embedder.ConfigFileName)
}

// parseVecboltConfig parses vecbolt.json over the defaults in cfg.
func parseVecboltConfig(b []byte, cfg embedder.ModelConfig) (embedder.ModelConfig, error) {
	var f vecboltConfigFile
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return cfg, configErr(embedder.ConfigFileName, "%v", err)
	}
	if dec.More() {
		return cfg, configErr(embedder.ConfigFileName, "trailing data after the JSON object")
	}
	cfg.Name = f.Name
	cfg.Model = f.Model
	if f.Pooling != "" {
		p, err := embedder.ParsePooling(f.Pooling)
		if err != nil {
			return cfg, configErr(embedder.ConfigFileName, "%v", err)
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
	return cfg, cfg.Validate(embedder.ConfigFileName)
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
func readSentenceTransformersConfig(fsys fs.FS, cfg *embedder.ModelConfig) error {
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
			cfg.Pooling = embedder.PoolingCLS
		case p.Mean:
			cfg.Pooling = embedder.PoolingMean
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
