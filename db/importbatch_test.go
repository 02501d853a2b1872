package db

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportBatchByteBudget: a batch is written when it reaches --batch
// documents or the byte budget, whichever comes first, so large documents
// go in small transactions whatever --batch says.
func TestImportBatchByteBudget(t *testing.T) {
	ctx := context.Background()
	d, err := Open(filepath.Join(t.TempDir(), "b.vecbolt"), WithEmbedder(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	line := func(i, textBytes int) string {
		return fmt.Sprintf(`{"id":"d%d","text":"%s","vector":[1,%d]}`, i, strings.Repeat("x", textBytes), i)
	}
	cases := []struct {
		name    string
		sizes   []int // text bytes per line
		batch   int
		budget  int
		commits int
	}{
		{"count first", []int{10, 10, 10, 10, 10}, 2, 1 << 20, 3},
		{"bytes first", []int{300 << 10, 300 << 10, 300 << 10, 300 << 10, 300 << 10}, 256, 1 << 20, 2},
		{"one document over the budget goes alone", []int{10, 2 << 20, 10}, 256, 1 << 20, 3},
		// docBytes of a line: 64 + 2 (ID) + text + 8 (vector).
		{"exactly the budget", []int{(1 << 19) - 74, (1 << 19) - 74, 10}, 256, 1 << 20, 2},
	}
	for k, tc := range cases {
		c, err := d.CreateCollection(ctx, fmt.Sprint("c", k), WithDimension(2), WithFlatIndex())
		if err != nil {
			t.Fatal(err)
		}
		var in strings.Builder
		for i, n := range tc.sizes {
			in.WriteString(line(i, n) + "\n")
		}
		imp := &importer{c: c, o: importOptions{batch: tc.batch, budget: tc.budget}, dim: 2}
		if err := imp.run(ctx, strings.NewReader(in.String())); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if imp.res.Stored != len(tc.sizes) || imp.commits != tc.commits {
			t.Errorf("%s: %d documents in %d transactions, want %d in %d", tc.name, imp.res.Stored, imp.commits, len(tc.sizes), tc.commits)
		}
	}
}

// TestImportBudgetUnderDBLimit: the import's byte budget stays under what
// db accepts in one call, with room for the encoding's framing.
func TestImportBudgetUnderDBLimit(t *testing.T) {
	if importBatchBytes+MaxLineBytes > MaxBatchBytes/2 {
		t.Fatalf("import batches of up to %d bytes are too close to MaxBatchBytes %d", importBatchBytes+MaxLineBytes, MaxBatchBytes)
	}
	if MaxLineBytes != jsonlLimits.MaxLine() {
		t.Fatalf("MaxLineBytes %d, but the decoder's limits make lines of %d", MaxLineBytes, jsonlLimits.MaxLine())
	}
}
