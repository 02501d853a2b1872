package bert

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

// This file runs tools/gentinybert/gentinybert.py, which writes random-weight
// models in both the sentence-transformers safetensors layout and as ONNX
// with the same weights. The models are generated into a temporary
// directory once per test binary (the realistic shapes are 90 MB each; none
// is committed).

var gen struct {
	sync.Mutex
	root   string
	dirs   map[string]string
	python string
	err    error
}

// findPython returns an interpreter that has onnx and numpy. Debian's
// python3-onnx installs into the system interpreter, which a version
// manager's python3 earlier on PATH would not see.
func findPython() (string, error) {
	cands := []string{os.Getenv("VECBOLT_PYTHON"), "/usr/bin/python3", "python3"}
	var last error
	for _, c := range cands {
		if c == "" {
			continue
		}
		out, err := exec.Command(c, "-c", "import onnx, numpy").CombinedOutput()
		if err == nil {
			return c, nil
		}
		last = &exec.Error{Name: c, Err: errString(string(out))}
	}
	return "", last
}

type errString string

func (e errString) Error() string { return string(e) }

// generated returns the directory of a generated model of the given shape
// ("tiny", "minilm" or "bge"), skipping the test when python3 with onnx is
// not installed, unless VECBOLT_REQUIRE_GENTINYBERT=1 (set by
// scripts/ensure-tools.sh, which installs it) makes that a failure.
func generated(t testing.TB, shape string) string {
	t.Helper()
	gen.Lock()
	defer gen.Unlock()
	if gen.python == "" && gen.err == nil {
		gen.python, gen.err = findPython()
	}
	if gen.err != nil {
		msg := "python3 with onnx and numpy is needed to generate the test models (Debian: apt-get install -y python3-onnx python3-numpy): "
		if os.Getenv("VECBOLT_REQUIRE_GENTINYBERT") == "1" {
			t.Fatal(msg, gen.err)
		}
		t.Skip(msg, gen.err)
	}
	if d, ok := gen.dirs[shape]; ok {
		return d
	}
	if gen.root == "" {
		root, err := os.MkdirTemp("", "vecbolt-bert-test-")
		if err != nil {
			t.Fatal(err)
		}
		gen.root, gen.dirs = root, map[string]string{}
	}
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "..", "..", "tools", "gentinybert", "gentinybert.py")
	dir := filepath.Join(gen.root, shape)
	out, err := exec.Command(gen.python, script, "--shape", shape, dir).CombinedOutput()
	if err != nil {
		t.Fatalf("gentinybert --shape %s: %v\n%s", shape, err, out)
	}
	gen.dirs[shape] = dir
	return dir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if gen.root != "" {
		os.RemoveAll(gen.root)
	}
	os.Exit(code)
}
