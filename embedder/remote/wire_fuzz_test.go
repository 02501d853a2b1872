package remote

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzDecodeOpenAI checks that any body either decodes to exactly n
// non-empty, bounded vectors or is an error, never a panic.
func FuzzDecodeOpenAI(f *testing.F) {
	f.Add([]byte(`{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.1,-0.2]}],"model":"m","usage":{"prompt_tokens":1,"total_tokens":1}}`), 1)
	f.Add([]byte(`{"data":[{"index":1,"embedding":[1]},{"index":0,"embedding":[2]}]}`), 2)
	f.Add([]byte(`{"data":[{"index":0,"embedding":"AAAA"}]}`), 1)
	f.Add([]byte(`{"error":{"message":"x"}}`), 1)
	f.Fuzz(func(t *testing.T, body []byte, n int) {
		if n < 1 || n > 64 {
			return
		}
		vs, err := decodeOpenAI(body, n)
		checkDecoded(t, vs, err, n)
	})
}

// FuzzDecodeOllama is FuzzDecodeOpenAI for /api/embed answers.
func FuzzDecodeOllama(f *testing.F) {
	f.Add([]byte(`{"model":"all-minilm","embeddings":[[0.010071029,-0.0017594862,0.05007221]],"total_duration":14143917,"load_duration":1019500,"prompt_eval_count":8}`), 1)
	f.Add([]byte(`{"embeddings":[[1,2],[3,4]]}`), 2)
	f.Add([]byte(`{"embeddings":[null]}`), 1)
	f.Add([]byte(`{"error":"model not found"}`), 1)
	f.Fuzz(func(t *testing.T, body []byte, n int) {
		if n < 1 || n > 64 {
			return
		}
		vs, err := decodeOllama(body, n)
		checkDecoded(t, vs, err, n)
	})
}

func checkDecoded(t *testing.T, vs [][]float32, err error, n int) {
	t.Helper()
	if err != nil {
		return
	}
	if len(vs) != n {
		t.Fatalf("%d vectors for %d texts without an error", len(vs), n)
	}
	for i, v := range vs {
		if len(v) == 0 || len(v) > maxVectorLen {
			t.Fatalf("vector %d has length %d without an error", i, len(v))
		}
	}
}

// FuzzErrorMessage checks that a server's error body becomes one short,
// printable line.
func FuzzErrorMessage(f *testing.F) {
	f.Add([]byte(`{"error":{"message":"Incorrect API key provided"}}`))
	f.Add([]byte(`{"error":"busy"}`))
	f.Add([]byte("\xff\xfe<html>\n</html>"))
	f.Fuzz(func(t *testing.T, body []byte) {
		m := errorMessage(body)
		if len(m) > 303 || strings.ContainsAny(m, "\n\r\x00") || !utf8.ValidString(m) {
			t.Fatalf("message %q is not one short valid line", m)
		}
	})
}
