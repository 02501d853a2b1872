//go:build vecbolt_nomodel

package db

import (
	"fmt"

	"github.com/vecbolt/vecbolt/embedder"
)

// hasBuiltinModel says whether this build links the built-in model.
const hasBuiltinModel = false

// defaultEmbedder, in a build with the tag vecbolt_nomodel, has no model to
// offer: db does not import embedder/builtin, so the model's weights are not
// linked. Opening without WithEmbedder then behaves as WithEmbedder(nil):
// collections of caller-supplied vectors work, and text needs a model given
// WithEmbedder.
func defaultEmbedder() (embedder.Embedder, error) {
	return nil, fmt.Errorf("%w: this program was built with the tag vecbolt_nomodel, which leaves the built-in model out; open the database WithEmbedder of a model (models.Load), or build without the tag", ErrNoEmbedder)
}
