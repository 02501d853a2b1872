// Package evalsets builds the retrieval sets the built-in model is trained
// around and measured on, shared by the trainer (tools/trainmodel) and the
// bench so that both use one split rule and one query construction:
//
//   - Debian one-line → long description: the query is a package's one-line
//     description, the relevant document its long description, the corpus
//     every long description (recipe in shared/notes/anchors.md). The
//     evaluation split is sha1(source) % 10 == 0.
//   - WordNet synonym → definition: the query is a single-word lemma of a
//     held-out synset (sha1("wn:"+pos+offset) % 10 == 0) that does not occur
//     in the synset's definition, the relevant document that definition, the
//     corpus every definition.
//
// Invariant: the split rules and the query construction decide what the
// shipped model saw in training (its MANIFEST names them), so any change to
// them changes the model's reproducibility and its evaluation; they are
// pinned by tests.
//
// The parsers are written here rather than taken from a library because
// both formats are simple line formats (deb822 stanzas, WordNet's
// data.* files) and no maintained Go reader of WordNet's database exists.
package evalsets
