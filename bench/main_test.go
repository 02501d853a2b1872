package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
		check   func(t *testing.T, c config)
	}{
		{name: "defaults", args: []string{"--cache", "/tmp/x"}, check: func(t *testing.T, c config) {
			if c.n != 100_000 || c.queries != 1000 || c.k != 10 || c.peerQ != 50 || len(c.suites) != len(allSuites()) {
				t.Fatalf("defaults: %+v", c)
			}
		}},
		{name: "quick", args: []string{"--cache", "/tmp/x", "--quick", "ann"}, check: func(t *testing.T, c config) {
			if c.n != 10_000 || c.queries != 200 || len(c.suites) != 1 {
				t.Fatalf("quick: %+v", c)
			}
		}},
		{name: "ef list sorted", args: []string{"--cache", "/tmp/x", "--ef", "64, 16,32"}, check: func(t *testing.T, c config) {
			if len(c.efs) != 3 || c.efs[0] != 16 || c.efs[2] != 64 || !c.efGiven {
				t.Fatalf("efs %v given %v", c.efs, c.efGiven)
			}
		}},
		{name: "ef not given", args: []string{"--cache", "/tmp/x", "db"}, check: func(t *testing.T, c config) {
			if c.efGiven || len(c.efs) == 0 {
				t.Fatalf("efs %v given %v", c.efs, c.efGiven)
			}
		}},
		{name: "systems", args: []string{"--cache", "/tmp/x", "--systems", "vecbolt-flat,coder-hnsw"}, check: func(t *testing.T, c config) {
			if !c.systems["coder-hnsw"] || c.systems["chromem-go"] {
				t.Fatalf("systems %v", c.systems)
			}
		}},
		{name: "unknown system", args: []string{"--cache", "/tmp/x", "--systems", "vecbolt-hnsw,hnswlb"}, wantErr: `unknown system "hnswlb"`},
		{name: "build threads", args: []string{"--cache", "/tmp/x", "--build-threads", "2"}, check: func(t *testing.T, c config) {
			if c.buildThreads != 2 {
				t.Errorf("buildThreads = %d, want 2", c.buildThreads)
			}
		}},
		{name: "dim", args: []string{"--cache", "/tmp/x", "--dim", "96"}, check: func(t *testing.T, c config) {
			if c.dim != 96 {
				t.Errorf("dim = %d, want 96", c.dim)
			}
		}},
		{name: "dim too small", args: []string{"--cache", "/tmp/x", "--dim", "1"}, wantErr: "--dim"},
		{name: "dim with text", args: []string{"--cache", "/tmp/x", "--dim", "96", "--dataset", "text"}, wantErr: "--dim"},
		{name: "build threads out of range", args: []string{"--cache", "/tmp/x", "--build-threads", "3"}, wantErr: "--build-threads"},
		{name: "unknown suite", args: []string{"--cache", "/tmp/x", "nope"}, wantErr: "unknown suite"},
		{name: "bad ef", args: []string{"--cache", "/tmp/x", "--ef", "10,x"}, wantErr: "--ef"},
		{name: "zero ef", args: []string{"--cache", "/tmp/x", "--ef", "0"}, wantErr: "--ef"},
		{name: "tiny n", args: []string{"--cache", "/tmp/x", "--n", "5"}, wantErr: "--n"},
		{name: "k too big", args: []string{"--cache", "/tmp/x", "--k", "101"}, wantErr: "--k"},
		{name: "peer queries beyond queries", args: []string{"--cache", "/tmp/x", "--queries", "20", "--peer-queries", "30"}, wantErr: "--peer-queries"},
		{name: "unknown flag", args: []string{"--bogus"}, wantErr: "bogus"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseArgs(tc.args, io.Discard)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}

// TestRunANNJSON runs the ann suite end to end on a tiny data set and
// checks the JSON lines: every line parses, carries the keys that apply,
// and the exact index has recall 1.
func TestRunANNJSON(t *testing.T) {
	var out, errOut bytes.Buffer
	saved := filepath.Join(t.TempDir(), "saved.jsonl")
	args := []string{"--json", "--save", saved, "--cache", t.TempDir(), "--n", "600", "--queries", "20", "--ef", "16,600",
		"--systems", "vecbolt-flat,vecbolt-hnsw,vecbolt-hnsw-m", "--plot", t.TempDir(), "ann"}
	if code := run(args, &out, &errOut); code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", code, errOut.String())
	}
	if b, err := os.ReadFile(saved); err != nil || string(b) != out.String() {
		t.Fatalf("--save file differs from stdout (err %v)", err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	systems := map[string]int{}
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if m["suite"] != "ann" || m["n"] != 600.0 || m["dim"] != 384.0 {
			t.Fatalf("line lacks suite/n/dim: %s", l)
		}
		sys := m["system"].(string)
		systems[sys]++
		if p, _ := m["params"].(map[string]any); sys == "vecbolt-hnsw-m" && p["phase"] == "build" &&
			(p["new_node_links"] != 16.0 || p["cpu_s"] == nil) {
			t.Fatalf("vecbolt-hnsw-m build line without new_node_links 16 and cpu_s: %s", l)
		}
		if r, ok := m["recall_at_10"]; ok {
			if m["qps_1t"] == nil || m["p50_ms"] == nil || m["k"] != 10.0 {
				t.Fatalf("search line without qps/latency/k: %s", l)
			}
			if sys == "vecbolt-flat" && r.(float64) < 0.999 {
				t.Fatalf("exact index recall %v", r)
			}
			// ef = n makes the graph search exhaustive.
			if p := m["params"].(map[string]any); sys == "vecbolt-hnsw" && p["ef"] == 600.0 && r.(float64) < 0.999 {
				t.Fatalf("hnsw at ef=n recall %v", r)
			}
		}
	}
	// vecbolt-hnsw-2m runs only when named.
	if systems["vecbolt-flat"] < 2 || systems["vecbolt-hnsw"] < 3 || systems["vecbolt-hnsw-m"] < 3 || systems["vecbolt-hnsw-2m"] != 0 {
		t.Fatalf("missing measurements: %v\n%s", systems, out.String())
	}
}

func TestReporterTable(t *testing.T) {
	r := &reporter{}
	r.add(Measurement{Suite: "ann", System: "a", N: 1, Params: map[string]any{"ef": 16}, RecallAt10: fp(0.5)})
	r.add(Measurement{Suite: "db", System: "b", N: 2, DocsPerS: fp(1234)})
	var buf bytes.Buffer
	r.flush(&buf)
	s := buf.String()
	for _, want := range []string{"## ann", "## db", "ef=16", "0.5000", "1234", "recall@10", "docs/s"} {
		if !strings.Contains(s, want) {
			t.Fatalf("table lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(strings.Split(s, "## db")[1], "recall@10") {
		t.Fatalf("db table shows a column it never filled:\n%s", s)
	}
	r.markdown = true
	buf.Reset()
	r.flush(&buf)
	if !strings.Contains(buf.String(), "| a |  | 1 | ef=16 | 0.5000 |  |\n") {
		t.Fatalf("markdown table:\n%s", buf.String())
	}
}

func TestRRF(t *testing.T) {
	// Document 2 is ranked well by both lists and must win; 1 and 3 tie on
	// score and are ordered by index.
	got := rrf([]int{1, 2}, []int{3, 2}, 60, 10)
	if len(got) != 3 || got[0] != 2 || got[1] != 1 || got[2] != 3 {
		t.Fatalf("rrf = %v", got)
	}
	if got := rrf([]int{1, 2, 3}, nil, 60, 2); len(got) != 2 || got[0] != 1 {
		t.Fatalf("rrf cut = %v", got)
	}
}

func TestDemoSet(t *testing.T) {
	s, err := demoSet()
	if err != nil {
		t.Fatal(err)
	}
	if len(s.queries) < 300 || len(s.queries) != len(s.rel) || len(s.docs) != len(s.queries) {
		t.Fatalf("%d queries, %d rel, %d docs", len(s.queries), len(s.rel), len(s.docs))
	}
	docs, _, err := corpusTexts()
	if err != nil {
		t.Fatal(err)
	}
	full := map[string]bool{}
	for _, d := range docs {
		full[d] = true
	}
	// Each pair splits one corpus text at its first ". ": the one-line
	// description is the query and is not part of the document.
	for i, q := range s.queries {
		d := s.docs[s.rel[i]]
		if !full[q+". "+d] || strings.Contains(q, ". ") {
			t.Fatalf("pair %d is not a split of a corpus text: %q / %.40q", i, q, d)
		}
	}
}

// TestHNSWLibPeer runs the hnswlib peer when this machine can compile it
// (g++ and Debian's libhnswlib-dev): at ef = n its search is exhaustive, so
// its recall must be 1, which checks the driver's data reading and recall
// computation end to end.
func TestHNSWLibPeer(t *testing.T) {
	if _, err := exec.LookPath("g++"); err != nil {
		t.Skip("no g++")
	}
	if _, err := os.Stat("/usr/include/hnswlib/hnswlib.h"); err != nil {
		t.Skip("no hnswlib headers (apt-get install libhnswlib-dev)")
	}
	var out, errOut bytes.Buffer
	args := []string{"--json", "--cache", t.TempDir(), "--n", "600", "--queries", "20", "--ef", "600",
		"--systems", "hnswlib", "ann"}
	if code := run(args, &out, &errOut); code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", code, errOut.String())
	}
	searches := 0
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var m Measurement
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		if m.System != "hnswlib" {
			t.Fatalf("unexpected system in %s", l)
		}
		if m.RecallAt10 != nil {
			searches++
			if *m.RecallAt10 < 0.999 {
				t.Fatalf("hnswlib at ef=n has recall %v", *m.RecallAt10)
			}
		}
	}
	if searches == 0 {
		t.Fatalf("no search measurement:\n%s\n%s", out.String(), errOut.String())
	}
}

// TestHNSWLibPeerReused runs the hnswlib peer twice with --reuse-db on one
// cache: the second run loads the index the first one saved, so it must
// find the same neighbours and report the first run's build, marked as
// such.
func TestHNSWLibPeerReused(t *testing.T) {
	if _, err := exec.LookPath("g++"); err != nil {
		t.Skip("no g++")
	}
	if _, err := os.Stat("/usr/include/hnswlib/hnswlib.h"); err != nil {
		t.Skip("no hnswlib headers (apt-get install libhnswlib-dev)")
	}
	cache := t.TempDir()
	type result struct {
		buildS, recall float64
		note           string
	}
	runOnce := func() result {
		var out, errOut bytes.Buffer
		args := []string{"--json", "--cache", cache, "--reuse-db", "--build-threads", "1", "--n", "600", "--queries", "20", "--ef", "16",
			"--systems", "hnswlib", "ann"}
		if code := run(args, &out, &errOut); code != 0 {
			t.Fatalf("exit %d\nstderr:\n%s", code, errOut.String())
		}
		var r result
		for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
			var m Measurement
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatal(err)
			}
			switch {
			case m.BuildS != nil:
				r.buildS, r.note = *m.BuildS, m.Note
			case m.RecallAt10 != nil && m.Note == "":
				r.recall = *m.RecallAt10
			}
		}
		return r
	}
	first, second := runOnce(), runOnce()
	if first.buildS <= 0 || strings.Contains(first.note, "earlier run") {
		t.Fatalf("first run: build %v s, note %q: want a build of its own", first.buildS, first.note)
	}
	if second.buildS != first.buildS || !strings.Contains(second.note, "built by an earlier run") {
		t.Errorf("second run: build %v s, note %q: want the first run's %v s, marked", second.buildS, second.note, first.buildS)
	}
	if second.recall != first.recall || first.recall == 0 {
		t.Errorf("recall at ef 16: first run %v, second %v: the loaded index must answer as the built one", first.recall, second.recall)
	}
}

func TestTargetTracker(t *testing.T) {
	b := &bench{rep: &reporter{}}
	var tr targetTracker
	m := Measurement{Suite: "ann", System: "x", Params: map[string]any{"ef": 10}}
	tr.offer(b, m, 0.93, 10) // reaches 0.90 only
	tr.offer(b, m, 0.97, 20) // reaches 0.95
	tr.offer(b, m, 0.98, 30) // nothing new
	if len(b.rep.all) != 2 || b.rep.all[0].Params["target_recall"] != 0.90 || b.rep.all[1].Params["target_recall"] != 0.95 {
		t.Fatalf("targets: %+v", b.rep.all)
	}
	if _, ok := m.Params["target_recall"]; ok {
		t.Fatal("offer modified the caller's params")
	}
}

// TestRecallSuiteData: the recall suite keeps its random-word texts unless
// --dataset is given, even with the flag's default value spelled out.
func TestRecallSuiteData(t *testing.T) {
	for _, c := range []struct {
		args []string
		want bool
	}{
		{[]string{"recall"}, false},
		{[]string{"--dataset", "clustered", "recall"}, true},
		{[]string{"--dataset", "text", "recall"}, true},
		{[]string{"--n", "1000", "recall"}, false},
	} {
		cfg, err := parseArgs(c.args, io.Discard)
		if err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		if cfg.recallVectors != c.want {
			t.Errorf("%v: recall suite on the data set's vectors %v, want %v", c.args, cfg.recallVectors, c.want)
		}
	}
}
