package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestFAISSParameters(t *testing.T) {
	tests := []struct {
		name           string
		n, dim         int
		nlist, pqm     int
		efs, wantSweep []int
		sweepWithNList bool
	}{
		{name: "100k x 384", n: 100_000, dim: 384, nlist: 1265, pqm: 48, efs: []int{10, 256}, wantSweep: []int{10, 256}, sweepWithNList: true},
		{name: "1M x 384", n: 1_000_000, dim: 384, nlist: 4000, pqm: 48, efs: []int{64, 384}, wantSweep: []int{64, 384}, sweepWithNList: true},
		{name: "10M x 96", n: 10_000_000, dim: 96, nlist: 12649, pqm: 12},
		// Small sets: lists capped so each gets ivfTrainPerList vectors;
		// nprobe above nlist dropped.
		{name: "600 x 384", n: 600, dim: 384, nlist: 12, pqm: 48, efs: []int{4, 12, 16, 600}, wantSweep: []int{4, 12}, sweepWithNList: true},
		{name: "all above nlist", n: 600, dim: 384, nlist: 12, pqm: 48, efs: []int{600}, wantSweep: []int{12}, sweepWithNList: true},
		{name: "tiny", n: 10, dim: 8, nlist: 1, pqm: 1},
		// 100 has no divisor between 8 and 12: the next one down.
		{name: "odd dim", n: 1000, dim: 100, nlist: 20, pqm: 10},
		{name: "prime dim", n: 1000, dim: 97, nlist: 20, pqm: 1},
		{name: "hnsw sweep is --ef", n: 1000, dim: 384, nlist: 20, pqm: 48, efs: []int{10, 5000}, wantSweep: []int{10, 5000}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ivfNList(tc.n); got != tc.nlist {
				t.Errorf("ivfNList(%d) = %d, want %d", tc.n, got, tc.nlist)
			}
			if got := pqSubquantizers(tc.dim); got != tc.pqm || tc.dim%got != 0 {
				t.Errorf("pqSubquantizers(%d) = %d, want %d", tc.dim, got, tc.pqm)
			}
			if tc.efs == nil {
				return
			}
			nl := 0
			if tc.sweepWithNList {
				nl = tc.nlist
			}
			got := faissSweep(tc.efs, nl)
			if joinInts(got) != joinInts(tc.wantSweep) {
				t.Errorf("faissSweep(%v, %d) = %v, want %v", tc.efs, nl, got, tc.wantSweep)
			}
		})
	}
}

// TestDriverBinary checks the shared driver build: a second call reuses
// the cached binary, changed flags compile anew, and a source that does
// not compile gives an error naming the driver and what to install.
func TestDriverBinary(t *testing.T) {
	if _, err := exec.LookPath("g++"); err != nil {
		t.Skip("no g++")
	}
	b := &bench{cfg: config{cache: t.TempDir()}}
	ctx := context.Background()
	d := cppDriver{name: "test-driver", src: []byte("#include <cstdio>\nint main() { puts(\"hi\"); }\n"), flags: []string{"-O0"}, needs: "nothing"}
	bin, err := b.driverBinary(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin).Output(); err != nil || string(out) != "hi\n" {
		t.Fatalf("driver ran: %q, %v", out, err)
	}
	fi, err := os.Stat(bin)
	if err != nil {
		t.Fatal(err)
	}
	again, err := b.driverBinary(ctx, d)
	if err != nil || again != bin {
		t.Fatalf("second call: %s, %v; want cached %s", again, err, bin)
	}
	if fi2, _ := os.Stat(bin); !fi2.ModTime().Equal(fi.ModTime()) {
		t.Fatal("cached driver was rebuilt")
	}
	d.flags = []string{"-O1"}
	if other, err := b.driverBinary(ctx, d); err != nil || other == bin {
		t.Fatalf("changed flags: %s, %v; want a new binary", other, err)
	}
	d.src = []byte("int main() { this is not C++ }\n")
	_, err = b.driverBinary(ctx, d)
	if err == nil || !strings.Contains(err.Error(), "test-driver") || !strings.Contains(err.Error(), "is nothing installed") {
		t.Fatalf("broken source: err = %v", err)
	}
	left, _ := filepath.Glob(filepath.Join(b.cfg.cache, "test-driver", "*.tmp*"))
	if len(left) != 0 {
		t.Fatalf("failed compile left %v", left)
	}
}

// haveFAISS skips t where the FAISS peers cannot be compiled.
func haveFAISS(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("g++"); err != nil {
		t.Skip("no g++: the FAISS peers are left out")
	}
	if _, err := os.Stat("/usr/include/faiss/IndexIVFPQ.h"); err != nil {
		t.Skip("no FAISS headers (apt-get install libfaiss-dev libopenblas-pthread-dev): the FAISS peers are left out")
	}
}

// TestFAISSPeers runs both FAISS systems end to end on a tiny set. At
// efSearch = n the HNSW search is exhaustive, so recall must be 1 (which
// checks the driver's reading, id mapping and recall computation); IVFPQ
// at nprobe = nlist scans every code, so its recall is the PQ codes' own:
// far above chance (10/600), below 1. Its bytes per vector cannot be less
// than the 48-byte code plus the 8-byte id.
func TestFAISSPeers(t *testing.T) {
	haveFAISS(t)
	var out, errOut bytes.Buffer
	args := []string{"--json", "--cache", t.TempDir(), "--n", "600", "--queries", "20", "--ef", "600",
		"--systems", "faiss-hnsw,faiss-ivfpq", "ann"}
	if code := run(args, &out, &errOut); code != 0 {
		t.Fatalf("exit %d\nstderr:\n%s", code, errOut.String())
	}
	builds := map[string]int{}
	searches := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var m Measurement
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		switch {
		case m.System != "faiss-hnsw" && m.System != "faiss-ivfpq":
			t.Fatalf("unexpected system in %s", l)
		case m.Params["phase"] == "build":
			builds[m.System]++
			if m.BuildS == nil || *m.BuildS <= 0 {
				t.Fatalf("build line without time: %s", l)
			}
			if m.System == "faiss-ivfpq" && m.Params["threads"] == 1.0 {
				if m.BytesPerVector == nil || *m.BytesPerVector < 56 || m.Params["codes_ids_bytes_per_vector"].(float64) < 56 {
					t.Fatalf("ivfpq bytes per vector below code + id: %s", l)
				}
				if m.Params["nlist"] != 12.0 || m.Params["pq_m"] != 48.0 || m.Params["metric"] != "l2" {
					t.Fatalf("ivfpq parameters: %s", l)
				}
			}
		case m.RecallAt10 != nil:
			if m.Params["target_recall"] != nil {
				continue
			}
			searches[m.System]++
			if m.QPS1T == nil || m.QPS2T == nil || m.QPS1TCPU == nil || m.P99Ms == nil {
				t.Fatalf("search line lacks a figure: %s", l)
			}
			r := *m.RecallAt10
			if m.System == "faiss-hnsw" && (m.Params["ef"] != 600.0 || r < 0.999) {
				t.Fatalf("faiss-hnsw at ef=n: %s", l)
			}
			if m.System == "faiss-ivfpq" && (m.Params["nprobe"] != 12.0 || r < 0.3 || r > 0.999) {
				t.Fatalf("faiss-ivfpq scanning every list: %s", l)
			}
		}
	}
	for _, s := range []string{"faiss-hnsw", "faiss-ivfpq"} {
		if builds[s] != len(threadCounts()) || searches[s] != 1 {
			t.Fatalf("%s: %d builds, %d searches\n%s\n%s", s, builds[s], searches[s], out.String(), errOut.String())
		}
	}
}
