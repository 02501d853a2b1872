package stlayout

import (
	"fmt"
	"strings"

	"github.com/vecbolt/vecbolt/embedder"
	"github.com/vecbolt/vecbolt/embedder/tokenizer"
)

// Overrides are a caller's changes to a model directory's configuration:
// the options every transformer family (ONNX Runtime, the pure-Go encoder)
// offers, kept in one place so the two read a directory alike. Zero values
// keep the directory's setting.
type Overrides struct {
	Name           string
	Pooling        embedder.Pooling
	MaxLen         int
	Normalize      *bool
	QueryPrefix    *string
	DocumentPrefix *string
}

// Apply writes the overrides into cfg.
func (o Overrides) Apply(cfg *embedder.ModelConfig) {
	if o.Pooling != "" {
		cfg.Pooling = o.Pooling
	}
	if o.MaxLen != 0 {
		cfg.MaxSeqLength = o.MaxLen
	}
	if o.Normalize != nil {
		cfg.Normalize = *o.Normalize
	}
	if o.QueryPrefix != nil {
		cfg.QueryPrefix = *o.QueryPrefix
	}
	if o.DocumentPrefix != nil {
		cfg.DocumentPrefix = *o.DocumentPrefix
	}
	if o.Name != "" {
		cfg.Name = o.Name
	}
}

// Encoded is a batch of texts tokenized for a transformer.
type Encoded struct {
	Encs []tokenizer.Encoding
	// Truncated counts the texts cut at the maximum length, Dropped the
	// tokens cut, Tokens the tokens kept (special tokens included).
	Truncated, Dropped, Tokens int64
}

// Encode tokenizes prefix+text for each text with special tokens, truncated
// at the tokenizer's maximum length. A text that is empty, only white
// space, or has no token left after normalization (control characters,
// zero-width spaces) fails the whole call with embedder.ErrEmptyText
// naming its index: a transformer would embed [CLS] [SEP] alone, a vector
// that means nothing.
func Encode(tok *tokenizer.Tokenizer, texts []string, prefix string) (Encoded, error) {
	e := Encoded{Encs: make([]tokenizer.Encoding, len(texts))}
	for i, t := range texts {
		if strings.TrimSpace(t) == "" {
			return Encoded{}, fmt.Errorf("%w: text %d is empty or only whitespace", embedder.ErrEmptyText, i)
		}
		enc := tok.Encode(prefix+t, true)
		if len(enc.IDs) <= 2 {
			return Encoded{}, fmt.Errorf("%w: text %d has no tokens after normalization", embedder.ErrEmptyText, i)
		}
		if enc.Truncated > 0 {
			e.Truncated++
			e.Dropped += int64(enc.Truncated)
		}
		e.Tokens += int64(len(enc.IDs))
		e.Encs[i] = enc
	}
	return e, nil
}
