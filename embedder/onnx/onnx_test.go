//go:build cgo

package onnx

import (
	"context"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/vecbolt/vecbolt/embedder"
)

// tinyVariant builds a model directory around one of the generated
// variant networks, with the tiny tokenizer and configuration.
func tinyVariant(t testing.TB, variant string) string {
	t.Helper()
	dir := t.TempDir()
	copyFile(t, filepath.Join(tinyDir, "variants", variant), filepath.Join(dir, "model.onnx"))
	copyFile(t, filepath.Join(tinyDir, "tokenizer.json"), filepath.Join(dir, "tokenizer.json"))
	return dir
}

func copyFile(t testing.TB, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// refTexts mixes lengths (so batches pad), unknown words, punctuation and
// one text beyond the 32-token limit.
var refTexts = []string{
	"the quick brown fox jumps over the lazy dog",
	"I love machine learning",
	"Artificial intelligence is amazing!",
	"bananas are yellow",
	"a",
	"search the vector database for a document about the weather today",
	"zzzqqq unknownword, walking? played.",
	strings.Repeat("the people in the city love music and movie night ", 6),
}

func maxAbsDiff(a []float32, b []float64) float64 {
	var m float64
	for i := range a {
		m = math.Max(m, math.Abs(float64(a[i])-b[i]))
	}
	return m
}

func TestONNXMatchesReference(t *testing.T) {
	requireORT(t)
	ref := loadRefBERT(t, tinyModelPath)
	tests := []struct {
		name      string
		dir       string
		pooling   embedder.Pooling
		normalize bool
		noTypes   bool
		batch     int
	}{
		{"mean-normalized", tinyDir, embedder.PoolingMean, true, false, 32},
		{"mean-raw", tinyDir, embedder.PoolingMean, false, false, 3},
		{"cls-normalized", tinyDir, embedder.PoolingCLS, true, false, 32},
		{"cls-raw-batch1", tinyDir, embedder.PoolingCLS, false, false, 1},
		{"no-token-type-input", tinyVariant(t, "model_notype.onnx"), embedder.PoolingMean, true, true, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Load(context.Background(), tc.dir, WithPooling(tc.pooling),
				WithNormalize(tc.normalize), WithBatchSize(tc.batch), WithMaxLength(32))
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			got, err := e.EmbedDocuments(context.Background(), refTexts)
			if err != nil {
				t.Fatal(err)
			}
			for i, text := range refTexts {
				enc := e.Tokenizer().Encode(text, true)
				types := enc.TypeIDs
				if tc.noTypes {
					types = nil
				}
				want := ref.refEmbed(t, enc.IDs, types, tc.pooling, tc.normalize)
				if d := maxAbsDiff(got[i], want); d > 1e-4 {
					t.Errorf("text %d (%d tokens): max |ORT - reference| = %g > 1e-4", i, len(enc.IDs), d)
				}
			}
		})
	}
}

func TestONNXReferenceDetectsDifferences(t *testing.T) {
	// The comparison above must be able to fail: the reference of one text
	// is far from the ORT vector of another.
	requireORT(t)
	ref := loadRefBERT(t, tinyModelPath)
	e := loadTiny(t)
	got, err := e.EmbedDocuments(context.Background(), refTexts[:2])
	if err != nil {
		t.Fatal(err)
	}
	enc := e.Tokenizer().Encode(refTexts[1], true)
	if d := maxAbsDiff(got[0], ref.refEmbed(t, enc.IDs, enc.TypeIDs, embedder.PoolingMean, true)); d < 1e-2 {
		t.Fatalf("different texts agree to %g: the reference comparison is vacuous", d)
	}
}

func TestONNXBatchInvariance(t *testing.T) {
	single := loadTiny(t, WithBatchSize(1))
	ctx := context.Background()
	want, err := single.EmbedDocuments(ctx, refTexts)
	if err != nil {
		t.Fatal(err)
	}
	for _, bs := range []int{2, 3, 32} {
		e := loadTiny(t, WithBatchSize(bs))
		got, err := e.EmbedDocuments(ctx, refTexts)
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			for j := range got[i] {
				if d := math.Abs(float64(got[i][j] - want[i][j])); d > 1e-5 {
					t.Fatalf("batch %d, text %d, component %d: %g vs %g unbatched", bs, i, j, got[i][j], want[i][j])
				}
			}
		}
	}
}

func TestONNXVectorsAreUnitAndFinite(t *testing.T) {
	e := loadTiny(t)
	vs, err := e.EmbedDocuments(context.Background(), refTexts)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range vs {
		if len(v) != e.Identity().Dim {
			t.Fatalf("text %d: len %d, want %d", i, len(v), e.Identity().Dim)
		}
		var ss float64
		for _, x := range v {
			ss += float64(x) * float64(x)
		}
		if math.Abs(math.Sqrt(ss)-1) > 1e-5 {
			t.Errorf("text %d: norm %g", i, math.Sqrt(ss))
		}
	}
}

func TestONNXIdentity(t *testing.T) {
	e := loadTiny(t)
	id := e.Identity()
	if id.Name != "tinybert" || id.Dim != 32 || id.Pooling != "mean" || len(id.Hash) != 64 {
		t.Fatalf("identity %+v", id)
	}
	if again := loadTiny(t).Identity(); !again.Equal(id) {
		t.Fatalf("reloading changed the identity: %v vs %v", again, id)
	}
	// Anything that changes vectors changes the hash.
	for name, opt := range map[string]Option{
		"pooling":   WithPooling(embedder.PoolingCLS),
		"normalize": WithNormalize(false),
		"maxlen":    WithMaxLength(16),
		"prefix":    WithPrefixes("query: ", "passage: "),
	} {
		if other := loadTiny(t, opt).Identity(); other.Hash == id.Hash {
			t.Errorf("%s: hash unchanged", name)
		}
	}
	if got := loadTiny(t, WithName("renamed")).Identity(); got.Name != "renamed" || got.Hash != id.Hash {
		t.Errorf("renaming: %v", got)
	}
}

func TestONNXSymbolicHiddenSize(t *testing.T) {
	// An export that leaves the hidden size symbolic: the dimension is
	// learned from one probe run, and vectors match the static model's.
	requireORT(t)
	ctx := context.Background()
	e, err := Load(ctx, tinyVariant(t, "model_dynhidden.onnx"), WithMaxLength(32))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if e.Identity().Dim != 32 {
		t.Fatalf("dim %d, want 32", e.Identity().Dim)
	}
	got, err := e.EmbedDocuments(ctx, refTexts)
	if err != nil {
		t.Fatal(err)
	}
	want, err := loadTiny(t).EmbedDocuments(ctx, refTexts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		for j := range got[i] {
			if math.Abs(float64(got[i][j]-want[i][j])) > 1e-6 {
				t.Fatalf("text %d component %d: %g vs %g", i, j, got[i][j], want[i][j])
			}
		}
	}
}

func TestONNXPrefixes(t *testing.T) {
	ctx := context.Background()
	plain := loadTiny(t)
	pre := loadTiny(t, WithPrefixes("query: ", "passage: "))
	q, err := pre.EmbedQuery(ctx, "the weather today")
	if err != nil {
		t.Fatal(err)
	}
	want, err := plain.EmbedDocuments(ctx, []string{"query: the weather today", "passage: the weather today"})
	if err != nil {
		t.Fatal(err)
	}
	d, err := pre.EmbedDocuments(ctx, []string{"the weather today"})
	if err != nil {
		t.Fatal(err)
	}
	for j := range q {
		if q[j] != want[0][j] || d[0][j] != want[1][j] {
			t.Fatalf("component %d: prefixed query %g / doc %g, want %g / %g", j, q[j], d[0][j], want[0][j], want[1][j])
		}
	}
}

func TestONNXTruncationCounted(t *testing.T) {
	e := loadTiny(t)
	long := strings.Repeat("music ", 100)
	if _, err := e.EmbedDocuments(context.Background(), []string{long, "short text"}); err != nil {
		t.Fatalf("a long text must be truncated, not rejected: %v", err)
	}
	st := e.Stats()
	if st.Texts != 2 || st.Truncated != 1 || st.DroppedTokens != 100-30 || st.Batches != 1 {
		t.Fatalf("stats %+v, want 2 texts, 1 truncated, 70 tokens dropped, 1 batch", st)
	}
}

func TestONNXInputErrors(t *testing.T) {
	e := loadTiny(t)
	ctx := context.Background()
	tests := []struct {
		name  string
		texts []string
		want  error
		index string
	}{
		{"empty", []string{"ok", ""}, embedder.ErrEmptyText, "text 1"},
		{"whitespace", []string{" \t\n"}, embedder.ErrEmptyText, "text 0"},
		{"only invisible characters", []string{"fine", "fine", "\u200b\u00ad\ufeff"}, embedder.ErrEmptyText, "text 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.EmbedDocuments(ctx, tc.texts)
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.index) {
				t.Fatalf("got %v, want %v naming %q", err, tc.want, tc.index)
			}
		})
	}
	if _, err := e.EmbedQuery(ctx, ""); !errors.Is(err, embedder.ErrEmptyText) {
		t.Fatalf("empty query: %v", err)
	}
	if v, err := e.EmbedDocuments(ctx, nil); err != nil || len(v) != 0 {
		t.Fatalf("no texts: %v, %v", v, err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := e.EmbedDocuments(cctx, refTexts); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: %v", err)
	}
}

func TestONNXClose(t *testing.T) {
	e := loadTiny(t)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := e.EmbedQuery(context.Background(), "hello"); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

func TestONNXCloseWhileEmbedding(t *testing.T) {
	// Close waits for running batches and later calls fail cleanly: every
	// call either succeeds or returns ErrClosed, never crashes.
	e := loadTiny(t, WithBatchSize(2))
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				_, err := e.EmbedDocuments(ctx, refTexts)
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	if _, err := e.EmbedQuery(ctx, "warm up"); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("embedding during Close: %v", err)
	}
}

func TestONNXModelErrors(t *testing.T) {
	requireORT(t)
	noModel := t.TempDir()
	copyFile(t, filepath.Join(tinyDir, "tokenizer.json"), filepath.Join(noModel, "tokenizer.json"))
	noTok := t.TempDir()
	copyFile(t, tinyModelPath, filepath.Join(noTok, "model.onnx"))
	badCfg := tinyVariant(t, "model_notype.onnx")
	if err := os.WriteFile(filepath.Join(badCfg, embedder.ConfigFileName), []byte(`{"pooling":"max"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		dir     string
		opts    []Option
		want    error
		mention []string
	}{
		{"wrong output name", tinyVariant(t, "model_badoutput.onnx"), nil, ErrModelSignature, []string{`"last_hidden_state"`, "embeddings"}},
		{"missing output", tinyDir, []Option{WithOutput("sentence_embedding")}, ErrModelSignature, []string{"sentence_embedding"}},
		{"no model.onnx", noModel, nil, embedder.ErrModelConfig, []string{"model.onnx"}},
		{"no tokenizer.json", noTok, nil, nil, []string{"tokenizer.json"}},
		{"bad pooling", badCfg, nil, embedder.ErrModelConfig, []string{"max", embedder.ConfigFileName}},
		{"bad batch size", tinyDir, []Option{WithBatchSize(0)}, nil, []string{"batch size"}},
		{"bad threads", tinyDir, []Option{WithIntraOpThreads(-1)}, nil, []string{"threads"}},
		{"bad max length", tinyDir, []Option{WithMaxLength(1)}, embedder.ErrModelConfig, []string{"max_seq_length"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Load(context.Background(), tc.dir, tc.opts...)
			if err == nil {
				e.Close()
				t.Fatal("loaded; want an error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error %v is not %v", err, tc.want)
			}
			for _, m := range tc.mention {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %q", err, m)
				}
			}
		})
	}
	// The wrong-output model works when told its output's name.
	e, err := Load(context.Background(), tinyVariant(t, "model_badoutput.onnx"), WithOutput("embeddings"))
	if err != nil {
		t.Fatal(err)
	}
	e.Close()
}

func TestONNXConcurrentCallers(t *testing.T) {
	e := loadTiny(t, WithBatchSize(4))
	ctx := context.Background()
	want, err := e.EmbedDocuments(ctx, refTexts)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := 0; it < 10; it++ {
				got, err := e.EmbedDocuments(ctx, refTexts)
				if err != nil {
					errs <- err
					return
				}
				for i := range got {
					for j := range got[i] {
						if math.Abs(float64(got[i][j]-want[i][j])) > 1e-6 {
							errs <- errors.New("concurrent result differs from serial")
							return
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestRuntimeDiscoveryErrors runs in child processes, because ONNX Runtime
// can be loaded only once per process and this process already has.
func TestRuntimeDiscoveryErrors(t *testing.T) {
	if os.Getenv("VECBOLT_ORT_CHILD") != "" {
		_, err := FindRuntime(os.Getenv("VECBOLT_ORT_CHILD_OPT"))
		if err == nil {
			os.Stdout.WriteString("LOADED\n")
		} else {
			os.Stdout.WriteString("ERR " + err.Error() + "\n")
			if errors.Is(err, ErrNoRuntime) {
				os.Stdout.WriteString("IS-ErrNoRuntime\n")
			}
		}
		return
	}
	if testing.Short() {
		t.Skip("spawns child processes")
	}
	empty := t.TempDir()
	type discoveryCase struct {
		name string
		env  []string
		opt  string
		want []string
	}
	tests := []discoveryCase{
		{"env points nowhere", []string{EnvORTLib + "=/nonexistent/libonnxruntime.so"}, "",
			[]string{"IS-ErrNoRuntime", "ONNXRUNTIME_LIB", "/nonexistent/libonnxruntime.so", "install-onnxruntime.sh"}},
		{"option points nowhere", nil, "/nope/libort.so",
			[]string{"IS-ErrNoRuntime", "WithLibraryPath", "/nope/libort.so", "npm pack onnxruntime-node@1.30.0"}},
		{"not a library", []string{EnvORTLib + "=" + tinyModelPath}, "",
			[]string{"IS-ErrNoRuntime", tinyModelPath}},
	}
	if lib, err := FindRuntime(""); err != nil || strings.HasPrefix(lib, "/") {
		// Only meaningful where the system's library paths lack ORT.
		tests = append(tests, discoveryCase{"nowhere at all", []string{embedder.EnvCache + "=" + empty, "LD_LIBRARY_PATH=" + empty}, "",
			[]string{"IS-ErrNoRuntime", "system library path", "install-onnxruntime.sh"}})
	}
	if lib, err := FindRuntime(""); err == nil && strings.HasPrefix(lib, "/") {
		tests = append(tests, discoveryCase{"env finds it", []string{EnvORTLib + "=" + lib}, "", []string{"LOADED"}})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestRuntimeDiscoveryErrors$")
			cmd.Env = append(os.Environ(), "VECBOLT_ORT_CHILD=1", "VECBOLT_ORT_CHILD_OPT="+tc.opt, EnvORTLib+"=")
			cmd.Env = append(cmd.Env, tc.env...)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("child output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestRuntimeConflict(t *testing.T) {
	requireORT(t)
	lib, _ := FindRuntime("")
	if !strings.HasPrefix(lib, "/") {
		t.Skipf("runtime loaded by bare name %q; cannot name a conflicting path", lib)
	}
	if _, err := FindRuntime(lib); err != nil {
		t.Fatalf("asking again for the loaded library: %v", err)
	}
	other := filepath.Join(t.TempDir(), "libonnxruntime.so")
	copyFile(t, tinyModelPath, other)
	_, err := FindRuntime(other)
	if !errors.Is(err, ErrRuntimeConflict) || !strings.Contains(err.Error(), lib) || !strings.Contains(err.Error(), other) {
		t.Fatalf("got %v, want ErrRuntimeConflict naming both libraries", err)
	}
	t.Setenv(EnvORTLib, other)
	if _, err := Load(context.Background(), tinyDir); !errors.Is(err, ErrRuntimeConflict) {
		t.Fatalf("env conflict: %v", err)
	}
}
