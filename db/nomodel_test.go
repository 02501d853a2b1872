package db

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// goTool returns the go command that runs these tests, or skips.
func goTool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command: %v", err)
	}
	return p
}

// TestNoModelTagLeavesModelOut checks the promise of the build tag
// vecbolt_nomodel: db then does not depend on embedder/builtin, so the
// model's weights cannot be linked; without the tag it does.
func TestNoModelTagLeavesModelOut(t *testing.T) {
	goCmd := goTool(t)
	const builtinPkg = "github.com/vecbolt/vecbolt/embedder/builtin"
	for _, tt := range []struct {
		tags string
		want bool
	}{{"", true}, {"vecbolt_nomodel", false}} {
		out, err := exec.Command(goCmd, "list", "-deps", "-tags", tt.tags, ".").CombinedOutput()
		if err != nil {
			t.Fatalf("go list -tags %q: %v\n%s", tt.tags, err, out)
		}
		has := false
		for _, line := range strings.Split(string(out), "\n") {
			has = has || line == builtinPkg
		}
		if has != tt.want {
			t.Errorf("tags %q: db depends on %s: %v, want %v", tt.tags, builtinPkg, has, tt.want)
		}
	}
}

// TestNoModelProgram builds and runs a vectors-only program with the tag:
// vectors work, and a text collection fails with ErrNoEmbedder.
func TestNoModelProgram(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	goCmd := goTool(t)
	bin := filepath.Join(t.TempDir(), "vectorsonly")
	if out, err := exec.Command(goCmd, "build", "-tags", "vecbolt_nomodel", "-o", bin, "./testdata/vectorsonly").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin).CombinedOutput()
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	if want := "nearest: x\ntext collection needs a model: true\n"; string(out) != want {
		t.Fatalf("output %q, want %q", out, want)
	}
	if st, err := os.Stat(bin); err == nil {
		t.Logf("vectors-only program built with vecbolt_nomodel: %d bytes", st.Size())
	}
}
