//go:build !vecbolt_nomodel

package db

import (
	"github.com/vecbolt/vecbolt/embedder"
	"github.com/vecbolt/vecbolt/embedder/builtin"
)

// hasBuiltinModel says whether this build links the built-in model.
const hasBuiltinModel = true

// defaultEmbedder loads the model used when Open is given no WithEmbedder:
// the built-in static model, pure Go and compiled into the binary, so text
// search works with no network and no native library. Its weights (about
// 14 MB) are linked into every program that imports db; a program that
// never embeds text leaves them out with the build tag vecbolt_nomodel
// (see default_nomodel.go).
func defaultEmbedder() (embedder.Embedder, error) {
	return builtin.New()
}
