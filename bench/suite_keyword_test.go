package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestOverlap(t *testing.T) {
	for _, tc := range []struct {
		a, b       [][]int
		mean, same float64
	}{
		{[][]int{{1, 2}, {3}}, [][]int{{2, 1}, {4}}, 0.5, 0.5},
		{[][]int{{1, 2, 3, 4}}, [][]int{{1, 2}}, 0.5, 0},
		{[][]int{{}}, [][]int{{}}, 1, 1},
	} {
		mean, same := overlap(tc.a, tc.b)
		if mean != tc.mean || same != tc.same {
			t.Errorf("overlap(%v, %v) = %v, %v; want %v, %v", tc.a, tc.b, mean, same, tc.mean, tc.same)
		}
	}
}

func TestSyntheticKeywordCorpus(t *testing.T) {
	texts := []string{"alpha beta beta gamma", "beta delta", "Gamma, alpha! epsilon zeta eta"}
	c := syntheticKeywordCorpus(texts, 50, 20)
	c2 := syntheticKeywordCorpus(texts, 50, 20)
	if c.n != 50 || len(c.queries) != 20 || c.name != "synthetic-50" {
		t.Fatalf("corpus %s: %d documents, %d queries", c.name, c.n, len(c.queries))
	}
	known := map[string]bool{"alpha": true, "beta": true, "gamma": true, "delta": true, "epsilon": true, "zeta": true, "eta": true}
	for i := range c.n {
		d := c.doc(i)
		if d != c2.doc(i) {
			t.Fatalf("document %d differs between generations", i)
		}
		n := len(strings.Fields(d))
		if n != 4 && n != 2 && n != 5 {
			t.Fatalf("document %d has %d words, not a source length", i, n)
		}
		for _, w := range strings.Fields(d) {
			if !known[w] {
				t.Fatalf("document %d has word %q from nowhere", i, w)
			}
		}
	}
	for i, q := range c.queries {
		if q != c2.queries[i] || len(strings.Fields(q)) == 0 {
			t.Fatalf("query %d: %q / %q", i, q, c2.queries[i])
		}
	}
}

// TestRunKeywordQuick runs the keyword suite on the demo corpus and a small
// synthetic one: both systems are measured, the two BM25s without stemming
// agree closely, and bleve's rankings overlap ours.
func TestRunKeywordQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("builds bleve indexes")
	}
	var out, errOut bytes.Buffer
	args := []string{"--json", "--quick", "--cache", t.TempDir(), "--n", "2000", "--queries", "50", "keyword"}
	if code := run(args, &out, &errOut); code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", code, errOut.String())
	}
	seen := map[string]bool{}
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var m Measurement
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		key := m.System + " " + m.Dataset
		seen[key] = true
		switch m.System {
		case "vecbolt-fulltext", "bleve":
			if m.NDCGAt10 == nil && (m.QPS1T == nil || m.DocsPerS == nil || m.BytesPerVector == nil) {
				t.Fatalf("timing line without figures: %s", l)
			}
		case "vecbolt-fulltext-nostem/reference-bm25":
			if ov := m.Params["top10_overlap"].(float64); ov < 0.9 {
				t.Fatalf("BM25 without stemming overlaps the reference by %v only", ov)
			}
		case "vecbolt-fulltext/bleve":
			if ov := m.Params["top10_overlap"].(float64); ov < 0.5 {
				t.Fatalf("overlap with bleve %v", ov)
			}
		}
	}
	for _, want := range []string{"vecbolt-fulltext debian-demo", "bleve debian-demo", "reference-bm25 debian-demo",
		"vecbolt-fulltext synthetic-2k", "bleve synthetic-2k", "vecbolt-fulltext/bleve synthetic-2k"} {
		if !seen[want] {
			t.Fatalf("no %q measurement in\n%s", want, out.String())
		}
	}
}
