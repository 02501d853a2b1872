package main

import (
	"strings"
	"testing"

	"github.com/vecbolt/vecbolt/embedder"
)

// TestGetVectorFlag checks that get prints vectors only with --vector, and
// the dimension without.
func TestGetVectorFlag(t *testing.T) {
	dbp := tempDB(t)
	noModel := []option{withTerminal(false), withEmbedder(nil), withBuiltin(func() (embedder.Embedder, error) { return nil, errNoBuiltin })}
	in := `{"id":"x","text":"ex","vector":[1,0.5,0]}` + "\n"
	if o := vbOpts(t, in, noModel, "import", "--db", dbp, "--collection", "v", "--dim", "3", "--index", "flat", "-"); o.code != 0 {
		t.Fatalf("import: %d %s", o.code, o.stderr)
	}
	tests := []struct {
		name      string
		args      []string
		want, not string
	}{
		{"text", nil, "vector: 3 dimensions\n", "[1 0.5 0]"},
		{"text with vectors", []string{"--vector"}, "vector: [1 0.5 0]\n", "dimensions"},
		{"json", []string{"--json"}, `"text": "ex"`, `"vector"`},
		{"json with vectors", []string{"--json", "--vector"}, `"vector": [`, "dimensions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"get", "--db", dbp, "--collection", "v"}, tt.args...)
			o := vbOpts(t, "", noModel, append(args, "x")...)
			if o.code != 0 || !strings.Contains(o.stdout, tt.want) || strings.Contains(o.stdout, tt.not) {
				t.Fatalf("exit %d, stdout %q, want %q and not %q (stderr %s)", o.code, o.stdout, tt.want, tt.not, o.stderr)
			}
		})
	}
}
