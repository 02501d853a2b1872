// Package tokenizer is a pure-Go BERT WordPiece tokenizer that reproduces
// Hugging Face tokenizers' ids and offsets exactly. It reads tokenizer.json
// (Load, Parse) or a vocab.txt (LoadVocabTxt with NewWordPiece), and is
// shared by the static and ONNX model families.
//
// It is written here rather than taken from a library because
// github.com/daulet/tokenizers binds the Rust HF library, which cannot be
// built without the crates registry, and the pure-Go
// github.com/gomlx/go-huggingface/tokenizers gives ids that differ from HF's
// on control characters (soft hyphen, BOM, zero-width space), whitespace
// beyond Zs (U+2028) and Unicode version (unicode_tables.go pins HF's
// Unicode 9 classes; unicode_gen.go regenerates them).
//
// Invariants:
//   - A Tokenizer is immutable after construction and safe for concurrent
//     use.
//   - Ids match HF tokenizers' for every text, and offsets are byte ranges
//     of the caller's text.
//   - Memory for a text is bounded by the text (EachIDs: by a run of ids),
//     and invalid UTF-8 or any other input never panics.
package tokenizer
