package main

import (
	"path/filepath"
	"strings"

	"github.com/vecbolt/vecbolt/internal/evalsets"
)

// wordNet is the shared reader's type; the held-out rule and the synonym
// query set live in internal/evalsets so the bench measures the same set.
type wordNet = evalsets.WordNet

// readWordNet reads WordNet from the corpus root (wordnet-base unpacked by
// fetch-corpus.sh).
func readWordNet(root string) (*wordNet, error) {
	return evalsets.ReadWordNet(evalsets.WordNetDir(root))
}

// emitWordNetTraining writes "lemma, lemma: gloss" for every synset not
// held out, so lemmas co-occur with the words that define them.
func emitWordNetTraining(wn *wordNet, emit func(string)) {
	for _, s := range wn.Synsets {
		if s.Reserved() {
			continue
		}
		emit(strings.Join(s.Lemmas, ", ") + ": " + s.Gloss)
	}
}

// debianLists is the apt lists directory fetch-corpus.sh fills, next to
// the unpacked packages under root.
func debianLists(root string) string { return filepath.Join(root, "..", "lists") }
