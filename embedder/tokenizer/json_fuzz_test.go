package tokenizer

import (
	"errors"
	"os"
	"testing"
	"unicode/utf8"
)

// FuzzParse feeds arbitrary bytes to the tokenizer.json loader:
// it must never panic, must fail only with its documented errors, and a
// tokenizer it accepts must encode text within its vocabulary.
func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile("testdata/bert-tiny-tokenizer.json"); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"model":{"type":"WordPiece","vocab":{"[UNK]":0,"a":1,"##b":2},"unk_token":"[UNK]"}}`))
	f.Add([]byte(`{"model":{"type":"BPE"}}`))
	// Typeless models, as early Hugging Face tokenizers wrote them.
	f.Add([]byte(`{"normalizer":{"type":"BertNormalizer"},"pre_tokenizer":{"type":"BertPreTokenizer"},"model":{"unk_token":"[UNK]","continuing_subword_prefix":"##","max_input_chars_per_word":100,"vocab":{"[UNK]":0,"a":1,"##b":2}}}`))
	f.Add([]byte(`{"model":{"unk_token":"[UNK]","vocab":{"[UNK]":0},"merges":[]}}`))
	f.Add([]byte(`{"model":{"unk_id":0,"vocab":[["[UNK]",0]]}}`))
	f.Add([]byte(`{"normalizer":{"type":"BertNormalizer","lowercase":true},"pre_tokenizer":{"type":"BertPreTokenizer"},"model":{"type":"WordPiece","vocab":{"[UNK]":0,"[CLS]":1,"[SEP]":2,"x":3},"unk_token":"[UNK]","continuing_subword_prefix":"##","max_input_chars_per_word":100},"post_processor":{"type":"BertProcessing","cls":["[CLS]",1],"sep":["[SEP]",2]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tok, err := Parse(data)
		if err != nil {
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("undocumented error: %v", err)
			}
			return
		}
		for _, text := range []string{"", "hello world", "a ab b", "\u00e9t\u00e9 [CLS] x", string(data[:min(len(data), 64)])} {
			if !utf8.ValidString(text) {
				continue
			}
			enc := tok.Encode(text, true)
			for _, id := range enc.IDs {
				if id < 0 || int(id) >= tok.VocabSize() {
					t.Fatalf("id %d outside vocabulary of %d", id, tok.VocabSize())
				}
			}
		}
	})
}
