package onnx

import (
	"context"
	"errors"
	"os"
	"testing"
)

const (
	tinyDir       = "../testdata/tinybert"
	tinyModelPath = tinyDir + "/model.onnx"
)

// requireORT skips a test only when the ONNX Runtime library is absent;
// any other failure to load it is a test failure. With
// VECBOLT_REQUIRE_ONNXRUNTIME=1 (set by `make test`, which installs the
// library first) absence fails too, so CI cannot silently skip these tests.
func requireORT(t testing.TB) {
	t.Helper()
	if _, err := FindRuntime(""); err != nil {
		if errors.Is(err, ErrNoRuntime) && os.Getenv("VECBOLT_REQUIRE_ONNXRUNTIME") != "1" {
			t.Skipf("ONNX Runtime not installed; run scripts/install-onnxruntime.sh (%v)", err)
		}
		t.Fatalf("loading ONNX Runtime: %v", err)
	}
}

func loadTiny(t testing.TB, opts ...Option) *Model {
	t.Helper()
	requireORT(t)
	e, err := Load(context.Background(), tinyDir, opts...)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}
