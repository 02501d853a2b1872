package fulltext

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
)

// Languages accepted by [Config].Language.
const (
	// LanguageEnglish segments, lower-cases and folds accents, drops
	// English stop words and stems with Snowball English (Porter2).
	LanguageEnglish = "english"
	// LanguageNone segments, lower-cases and folds accents only.
	LanguageNone = "none"
)

// Default BM25 parameters.
const (
	DefaultK1 = 1.2
	DefaultB  = 0.75
)

// ErrConfig is wrapped by every error about an invalid [Config].
var ErrConfig = errors.New("fulltext: invalid configuration")

// Config is a collection's full-text configuration. The zero value means
// English analysis with BM25 k1 = 1.2, b = 0.75. Callers store
// [Config.MarshalBinary]'s output with the collection and restore it with
// [Config.UnmarshalBinary]; the index must be read with the configuration
// it was written with (the analysis decides which terms exist).
type Config struct {
	// Language is LanguageEnglish (the default when empty) or LanguageNone.
	Language string `json:"language"`
	// K1 and B are BM25's term-frequency saturation and length
	// normalization; zero means the default. K1 must be in (0, 10], B in
	// [0, 1] (an explicit B of 0 cannot be written as zero: use NoLengthNorm).
	K1 float64 `json:"k1"`
	B  float64 `json:"b"`
	// NoLengthNorm sets b to 0 (no document-length normalization).
	NoLengthNorm bool `json:"no_length_norm,omitempty"`
	// NoStemming and NoStopWords turn off those steps of English analysis.
	// (LanguageNone, which has neither, gives the terms closest to the
	// bench's reference BM25 in bench/internal/retrieval.)
	NoStemming  bool `json:"no_stemming,omitempty"`
	NoStopWords bool `json:"no_stop_words,omitempty"`
}

// withDefaults fills the zero fields.
func (c Config) withDefaults() Config {
	if c.Language == "" {
		c.Language = LanguageEnglish
	}
	if c.K1 == 0 {
		c.K1 = DefaultK1
	}
	if c.B == 0 && !c.NoLengthNorm {
		c.B = DefaultB
	}
	if c.NoLengthNorm {
		c.B = 0
	}
	return c
}

// Validate reports what is wrong with c, wrapping [ErrConfig].
func (c Config) Validate() error {
	if c.NoLengthNorm && c.B != 0 {
		return fmt.Errorf("%w: b %v with no_length_norm", ErrConfig, c.B)
	}
	c = c.withDefaults()
	switch c.Language {
	case LanguageEnglish, LanguageNone:
	default:
		return fmt.Errorf("%w: language %q: want %q or %q", ErrConfig, c.Language, LanguageEnglish, LanguageNone)
	}
	if math.IsNaN(c.K1) || c.K1 <= 0 || c.K1 > 10 {
		return fmt.Errorf("%w: k1 %v: want a number in (0, 10]", ErrConfig, c.K1)
	}
	if math.IsNaN(c.B) || c.B < 0 || c.B > 1 {
		return fmt.Errorf("%w: b %v: want a number in [0, 1]", ErrConfig, c.B)
	}
	if c.Language == LanguageNone && (c.NoStemming || c.NoStopWords) {
		return fmt.Errorf("%w: no_stemming and no_stop_words apply to language %q only", ErrConfig, LanguageEnglish)
	}
	return nil
}

// Normalized returns c with its defaults filled in, after validating it.
func (c Config) Normalized() (Config, error) {
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c.withDefaults(), nil
}

// MarshalBinary encodes the normalized configuration as JSON (a stable,
// readable form for the collection's configuration record).
func (c Config) MarshalBinary() ([]byte, error) {
	n, err := c.Normalized()
	if err != nil {
		return nil, err
	}
	return json.Marshal(n)
}

// UnmarshalBinary decodes what MarshalBinary wrote; unknown fields and
// invalid values are errors wrapping [ErrConfig].
func (c *Config) UnmarshalBinary(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var v Config
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("%w: %v", ErrConfig, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: trailing data after the configuration", ErrConfig)
	}
	n, err := v.Normalized()
	if err != nil {
		return err
	}
	*c = n
	return nil
}
