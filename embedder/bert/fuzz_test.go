package bert

import (
	"testing"
)

// FuzzParseArchitecture: config.json never panics the parser, and what it
// accepts satisfies the invariants the forward pass relies on.
func FuzzParseArchitecture(f *testing.F) {
	f.Add([]byte(`{"model_type":"bert","hidden_size":384,"num_hidden_layers":6,"num_attention_heads":12,"intermediate_size":1536,"vocab_size":30522,"max_position_embeddings":512,"type_vocab_size":2,"layer_norm_eps":1e-12,"hidden_act":"gelu"}`))
	f.Add([]byte(`{"hidden_size":36,"num_hidden_layers":1,"num_attention_heads":5}`))
	f.Add([]byte(`{"hidden_size":-1}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := parseArchitecture(b)
		if err != nil {
			return
		}
		if a.Hidden < 1 || a.Heads < 1 || a.Hidden%a.Heads != 0 || a.Layers < 1 || a.Intermediate < 1 ||
			a.Vocab < 1 || a.MaxPositions < 1 || a.TypeVocab < 1 || !(a.LayerNormEps > 0) || a.HiddenAct != "gelu" {
			t.Fatalf("accepted %+v", a)
		}
	})
}
