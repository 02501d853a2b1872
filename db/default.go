package db

import (
	"github.com/vecbolt/vecbolt/embedder"
	"github.com/vecbolt/vecbolt/embedder/builtin"
)

// defaultEmbedder loads the model used when Open is given no WithEmbedder:
// the built-in static model, pure Go and compiled into the binary, so text
// search works with no network and no native library.
func defaultEmbedder() (embedder.Embedder, error) {
	return builtin.New()
}
