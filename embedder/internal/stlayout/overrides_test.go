package stlayout

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vecbolt/vecbolt/embedder"
	"github.com/vecbolt/vecbolt/embedder/tokenizer"
)

func TestOverridesApply(t *testing.T) {
	yes, q, d := true, "query: ", "passage: "
	base := embedder.ModelConfig{Name: "m", Pooling: embedder.PoolingMean, MaxSeqLength: 128, QueryPrefix: "q", DocumentPrefix: "d"}
	tests := []struct {
		name string
		ov   Overrides
		want embedder.ModelConfig
	}{
		{"zero keeps everything", Overrides{}, base},
		{"every field", Overrides{Name: "x", Pooling: embedder.PoolingCLS, MaxLen: 64, Normalize: &yes, QueryPrefix: &q, DocumentPrefix: &d},
			embedder.ModelConfig{Name: "x", Pooling: embedder.PoolingCLS, MaxSeqLength: 64, Normalize: true, QueryPrefix: q, DocumentPrefix: d}},
		{"prefixes only", Overrides{QueryPrefix: &q, DocumentPrefix: &d},
			embedder.ModelConfig{Name: "m", Pooling: embedder.PoolingMean, MaxSeqLength: 128, QueryPrefix: q, DocumentPrefix: d}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			tc.ov.Apply(&cfg)
			if cfg != tc.want {
				t.Fatalf("got %+v, want %+v", cfg, tc.want)
			}
		})
	}
}

func TestEncode(t *testing.T) {
	tok, err := tokenizer.Load(filepath.Join(tinyDir, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		texts   []string
		wantErr string
	}{
		{"ordinary texts", []string{"hello world", "a b"}, ""},
		{"empty text names its index", []string{"ok", ""}, "text 1 is empty"},
		{"only white space", []string{" \t\n"}, "text 0 is empty"},
		{"no token after normalization", []string{"\u200b\u00ad"}, "text 0 has no tokens"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Encode(tok, tc.texts, "")
			if tc.wantErr != "" {
				if !errors.Is(err, embedder.ErrEmptyText) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want ErrEmptyText containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var tokens int64
			for i, enc := range e.Encs {
				if want := tok.Encode(tc.texts[i], true); len(enc.IDs) != len(want.IDs) {
					t.Fatalf("text %d: %d ids, want %d", i, len(enc.IDs), len(want.IDs))
				}
				tokens += int64(len(enc.IDs))
			}
			if e.Tokens != tokens {
				t.Fatalf("Tokens %d, want %d", e.Tokens, tokens)
			}
		})
	}
	long := strings.Repeat("word ", tok.MaxLength()+10)
	e, err := Encode(tok, []string{long}, "")
	if err != nil {
		t.Fatal(err)
	}
	if e.Truncated != 1 || e.Dropped <= 0 || len(e.Encs[0].IDs) != tok.MaxLength() {
		t.Fatalf("truncation: %d texts, %d tokens dropped, %d kept (max %d)", e.Truncated, e.Dropped, len(e.Encs[0].IDs), tok.MaxLength())
	}
}
