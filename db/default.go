package db

import (
	"fmt"

	"github.com/vecbolt/vecbolt/embedder"
)

// defaultEmbedder loads the model used when Open is given no WithEmbedder.
func defaultEmbedder() (embedder.Embedder, error) {
	return nil, fmt.Errorf("%w: the built-in model is not available in this build; use WithEmbedder", ErrNoEmbedder)
}
