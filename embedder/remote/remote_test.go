package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vecbolt/vecbolt/embedder"
)

const testKey = "sk-test-7f3a9c1e5b2d4f6a8c0e2b4d6f8a0c2e"

// fakeVec is a deterministic vector for a text, so tests can check that
// each text got its own vector in its own place.
func fakeVec(text string, dim int) []float32 {
	v := make([]float32, dim)
	for i := range v {
		h := fnv.New32a()
		fmt.Fprintf(h, "%d:%s", i, text)
		v[i] = float32(h.Sum32()%2000)/1000 - 1
	}
	v[0] += 3 // never all zero
	return v
}

func unit(v []float32) []float32 {
	var ss float64
	for _, x := range v {
		ss += float64(x) * float64(x)
	}
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(float64(x) / math.Sqrt(ss))
	}
	return out
}

type wireRequest struct {
	Model          string   `json:"model"`
	Input          []string `json:"input"`
	EncodingFormat string   `json:"encoding_format"`
	Dimensions     int      `json:"dimensions"`
}

// server speaks one provider's wire format. reply may replace the answer
// for a request; it returns false to send the normal one.
type server struct {
	t        *testing.T
	provider Provider
	dim      int
	key      string // expected bearer key ("" for none)
	mu       sync.Mutex
	requests []wireRequest
	reply    func(w http.ResponseWriter, n int, req wireRequest) bool
	// reverse returns OpenAI data items in reverse order (they carry an index).
	reverse bool
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	want := "/v1/embeddings"
	if s.provider == Ollama {
		want = "/api/embed"
	}
	if r.Method != http.MethodPost || r.URL.Path != want {
		http.Error(w, `{"error":"not found"}`, http.StatusNotFound)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		s.t.Errorf("Content-Type %q", ct)
	}
	auth := r.Header.Get("Authorization")
	if s.key == "" && auth != "" {
		s.t.Errorf("unexpected Authorization header")
	}
	if s.key != "" && auth != "Bearer "+s.key {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":{"message":"Incorrect API key provided: `+strings.TrimPrefix(auth, "Bearer ")+`","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`)
		return
	}
	var req wireRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		s.t.Errorf("request body: %v", err)
		return
	}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	n := len(s.requests)
	s.mu.Unlock()
	if s.reply != nil && s.reply(w, n, req) {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if s.provider == Ollama {
		embs := make([][]float32, len(req.Input))
		for i, t := range req.Input {
			embs[i] = fakeVec(t, s.dim)
		}
		json.NewEncoder(w).Encode(map[string]any{"model": req.Model, "embeddings": embs,
			"total_duration": 14143917, "load_duration": 1019500, "prompt_eval_count": 8})
		return
	}
	if req.EncodingFormat != "float" {
		s.t.Errorf("encoding_format %q, want float", req.EncodingFormat)
	}
	type item struct {
		Object    string    `json:"object"`
		Index     int       `json:"index"`
		Embedding []float32 `json:"embedding"`
	}
	var data []item
	for i, t := range req.Input {
		data = append(data, item{"embedding", i, fakeVec(t, s.dim)})
	}
	if s.reverse {
		for i, j := 0, len(data)-1; i < j; i, j = i+1, j-1 {
			data[i], data[j] = data[j], data[i]
		}
	}
	json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data, "model": req.Model,
		"usage": map[string]int{"prompt_tokens": 8, "total_tokens": 8}})
}

func (s *server) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

func start(t *testing.T, s *server) (*httptest.Server, string) {
	t.Helper()
	s.t = t
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	if s.provider == Ollama {
		return ts, ts.URL
	}
	return ts, ts.URL + "/v1"
}

// noSleep records the waits instead of sleeping.
type noSleep struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (n *noSleep) opt() Option {
	return func(o *options) {
		o.sleep = func(ctx context.Context, d time.Duration) error {
			n.mu.Lock()
			n.waits = append(n.waits, d)
			n.mu.Unlock()
			return ctx.Err()
		}
	}
}

func TestRoundTrip(t *testing.T) {
	for _, p := range []Provider{OpenAI, Ollama} {
		t.Run(string(p), func(t *testing.T) {
			s := &server{provider: p, dim: 12, reverse: true}
			if p == OpenAI {
				s.key = testKey
			}
			_, base := start(t, s)
			ctx := context.Background()
			c, err := New(ctx, p, "m-1", WithBaseURL(base), WithAPIKey(s.key), WithBatchSize(3), WithPrefixes("query: ", "passage: "))
			if err != nil {
				t.Fatal(err)
			}
			id := c.Identity()
			if id.Name != string(p)+":m-1" || id.Dim != 12 || id.Pooling != "server" || len(id.Hash) != 64 {
				t.Fatalf("identity %+v", id)
			}
			if s.count() != 1 {
				t.Fatalf("%d probe requests, want 1", s.count())
			}
			texts := []string{"a", "b", "c", "d", "e", "f", "g"}
			vs, err := c.EmbedDocuments(ctx, texts)
			if err != nil {
				t.Fatal(err)
			}
			// 7 texts in batches of 3: 3 requests after the probe.
			if s.count() != 4 {
				t.Fatalf("%d requests, want 1 probe + 3 batches", s.count())
			}
			for i, tx := range texts {
				want := unit(fakeVec("passage: "+tx, 12))
				for j := range want {
					if math.Abs(float64(vs[i][j]-want[j])) > 1e-6 {
						t.Fatalf("text %d: vector %v, want %v", i, vs[i], want)
					}
				}
			}
			q, err := c.EmbedQuery(ctx, "find")
			if err != nil {
				t.Fatal(err)
			}
			if want := unit(fakeVec("query: find", 12)); math.Abs(float64(q[3]-want[3])) > 1e-6 {
				t.Fatalf("query vector %v, want %v", q, want)
			}
			for _, r := range s.requests {
				if r.Model != "m-1" || len(r.Input) == 0 || len(r.Input) > 3 {
					t.Fatalf("request %+v", r)
				}
			}
			if _, err := c.EmbedDocuments(ctx, []string{"ok", "  "}); !errors.Is(err, embedder.ErrEmptyText) {
				t.Fatalf("blank text: %v", err)
			}
			if _, err := c.EmbedQuery(ctx, "bad \xff"); err == nil {
				t.Fatal("invalid UTF-8 accepted")
			}
		})
	}
}

func TestBadResponses(t *testing.T) {
	okVec := `[0.1,0.2,0.3,0.4]`
	cases := []struct {
		name     string
		provider Provider
		body     string
		want     error
	}{
		{"openai not JSON", OpenAI, `<html>bad gateway</html>`, ErrBadResponse},
		{"openai truncated", OpenAI, `{"object":"list","data":[{"index":0,"embedding":[0.1,`, ErrBadResponse},
		{"openai no data", OpenAI, `{"object":"list"}`, ErrBadResponse},
		{"openai too few", OpenAI, `{"data":[]}`, ErrBadResponse},
		{"openai too many", OpenAI, `{"data":[{"index":0,"embedding":` + okVec + `},{"index":1,"embedding":` + okVec + `}]}`, ErrBadResponse},
		{"openai no index", OpenAI, `{"data":[{"embedding":` + okVec + `}]}`, ErrBadResponse},
		{"openai index out of range", OpenAI, `{"data":[{"index":1,"embedding":` + okVec + `}]}`, ErrBadResponse},
		{"openai NaN literal", OpenAI, `{"data":[{"index":0,"embedding":[NaN,0.2,0.3,0.4]}]}`, ErrBadResponse},
		{"openai NaN string", OpenAI, `{"data":[{"index":0,"embedding":["NaN",0.2,0.3,0.4]}]}`, ErrBadResponse},
		{"openai overflows float32", OpenAI, `{"data":[{"index":0,"embedding":[1e39,0.2,0.3,0.4]}]}`, ErrBadResponse},
		{"openai base64", OpenAI, `{"data":[{"index":0,"embedding":"AAAAAA=="}]}`, ErrBadResponse},
		{"openai token vectors", OpenAI, `{"data":[{"index":0,"embedding":[[0.1,0.2,0.3,0.4]]}]}`, ErrBadResponse},
		{"openai empty vector", OpenAI, `{"data":[{"index":0,"embedding":[]}]}`, ErrBadResponse},
		{"openai zero vector", OpenAI, `{"data":[{"index":0,"embedding":[0,0,0,0]}]}`, ErrBadResponse},
		{"openai wrong dim", OpenAI, `{"data":[{"index":0,"embedding":[0.1,0.2,0.3]}]}`, ErrDimensionMismatch},
		{"openai trailing data", OpenAI, `{"data":[{"index":0,"embedding":` + okVec + `}]} {}`, ErrBadResponse},
		{"ollama no embeddings", Ollama, `{"model":"m"}`, ErrBadResponse},
		{"ollama too many", Ollama, `{"embeddings":[` + okVec + `,` + okVec + `]}`, ErrBadResponse},
		{"ollama null vector", Ollama, `{"embeddings":[null]}`, ErrBadResponse},
		{"ollama NaN", Ollama, `{"embeddings":[[NaN,1,1,1]]}`, ErrBadResponse},
		{"ollama wrong dim", Ollama, `{"embeddings":[[0.1,0.2,0.3,0.4,0.5]]}`, ErrDimensionMismatch},
		{"ollama old format", Ollama, `{"embedding":[0.1,0.2,0.3,0.4]}`, ErrBadResponse},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &server{provider: tc.provider, dim: 4, reply: func(w http.ResponseWriter, n int, _ wireRequest) bool {
				io.WriteString(w, tc.body)
				return true
			}}
			_, base := start(t, s)
			c, err := New(context.Background(), tc.provider, "m", WithBaseURL(base), WithDimension(4), WithRetries(3))
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.EmbedDocuments(context.Background(), []string{"one"})
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if s.count() != 1 {
				t.Fatalf("%d requests: a bad answer must not be retried", s.count())
			}
		})
	}
}

func TestResponseTooLarge(t *testing.T) {
	s := &server{provider: Ollama, dim: 4, reply: func(w http.ResponseWriter, _ int, _ wireRequest) bool {
		io.WriteString(w, `{"embeddings":[[`+strings.Repeat("0.125,", 400)+`1]]}`)
		return true
	}}
	_, base := start(t, s)
	c, err := New(context.Background(), Ollama, "m", WithBaseURL(base), WithDimension(4), WithMaxResponseBytes(1024), (&noSleep{}).opt())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.EmbedQuery(context.Background(), "x"); !errors.Is(err, ErrBadResponse) || !strings.Contains(err.Error(), "exceeds 1024 bytes") {
		t.Fatalf("error %v, want the size bound named", err)
	}
	if s.count() != 1 {
		t.Fatalf("%d requests: an oversized answer must not be retried", s.count())
	}
}

func TestDimensionLearnedAndChecked(t *testing.T) {
	dim := atomic.Int32{}
	dim.Store(6)
	s := &server{provider: Ollama, reply: func(w http.ResponseWriter, _ int, req wireRequest) bool {
		embs := make([][]float32, len(req.Input))
		for i, tx := range req.Input {
			embs[i] = fakeVec(tx, int(dim.Load()))
		}
		json.NewEncoder(w).Encode(map[string]any{"embeddings": embs})
		return true
	}}
	_, base := start(t, s)
	c, err := New(context.Background(), Ollama, "m", WithBaseURL(base))
	if err != nil {
		t.Fatal(err)
	}
	if c.Identity().Dim != 6 {
		t.Fatalf("dim %d, want 6 from the probe", c.Identity().Dim)
	}
	dim.Store(7) // the server's model changed under the client
	if _, err := c.EmbedQuery(context.Background(), "x"); !errors.Is(err, ErrDimensionMismatch) {
		t.Fatalf("got %v, want ErrDimensionMismatch", err)
	}
	// A stated dimension the server does not produce fails at first use.
	c2, err := New(context.Background(), Ollama, "m", WithBaseURL(base), WithDimension(8))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c2.EmbedDocuments(context.Background(), []string{"x"}); !errors.Is(err, ErrDimensionMismatch) {
		t.Fatalf("got %v, want ErrDimensionMismatch", err)
	}
}

func TestRetry(t *testing.T) {
	cases := []struct {
		name       string
		statuses   []int // answers before success; 0 = success
		header     string
		retries    int
		wantErr    int // expected StatusError code, 0 for success
		wantReqs   int
		wantWaits  []time.Duration // exact waits (Retry-After); nil to check count only
		wantNWaits int
	}{
		{"429 then success, Retry-After seconds", []int{429}, "3", 4, 0, 2, []time.Duration{3 * time.Second}, 1},
		{"503 twice then success", []int{503, 503}, "", 4, 0, 3, nil, 2},
		{"500 exhausted", []int{500, 500, 500, 500}, "", 2, 500, 3, nil, 2},
		{"400 not retried", []int{400}, "", 4, 400, 1, nil, 0},
		{"401 not retried", []int{401}, "", 4, 401, 1, nil, 0},
		{"404 not retried", []int{404}, "", 4, 404, 1, nil, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &server{provider: OpenAI, dim: 4, reply: func(w http.ResponseWriter, n int, _ wireRequest) bool {
				if n > len(tc.statuses) {
					return false
				}
				if tc.header != "" {
					w.Header().Set("Retry-After", tc.header)
				}
				w.WriteHeader(tc.statuses[n-1])
				io.WriteString(w, `{"error":{"message":"status `+fmt.Sprint(tc.statuses[n-1])+` from the test server","type":"server_error","param":null,"code":null}}`)
				return true
			}}
			_, base := start(t, s)
			ns := &noSleep{}
			c, err := New(context.Background(), OpenAI, "m", WithBaseURL(base), WithDimension(4), WithRetries(tc.retries), ns.opt())
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.EmbedDocuments(context.Background(), []string{"x"})
			if tc.wantErr == 0 && err != nil {
				t.Fatal(err)
			}
			if tc.wantErr != 0 {
				var se *StatusError
				if !errors.As(err, &se) || se.StatusCode != tc.wantErr || se.Attempts != tc.wantReqs {
					t.Fatalf("error %v, want HTTP %d after %d attempts", err, tc.wantErr, tc.wantReqs)
				}
				if !strings.Contains(err.Error(), "from the test server") {
					t.Fatalf("error %q lacks the server's message", err)
				}
			}
			if s.count() != tc.wantReqs {
				t.Fatalf("%d requests, want %d", s.count(), tc.wantReqs)
			}
			if len(ns.waits) != tc.wantNWaits {
				t.Fatalf("waits %v, want %d", ns.waits, tc.wantNWaits)
			}
			if tc.wantWaits != nil && fmt.Sprint(ns.waits) != fmt.Sprint(tc.wantWaits) {
				t.Fatalf("waits %v, want %v (Retry-After)", ns.waits, tc.wantWaits)
			}
		})
	}
}

func TestBackoffGrows(t *testing.T) {
	c := &Client{o: options{backoff: 100 * time.Millisecond, maxBackoff: time.Second}}
	for attempt, lo := range map[int]time.Duration{1: 100, 2: 200, 3: 400, 4: 800, 5: 1000, 9: 1000} {
		lo *= time.Millisecond
		for range 20 {
			d := c.backoff(attempt)
			if d < lo || d > lo+lo/4 {
				t.Fatalf("attempt %d: wait %v outside [%v, %v]", attempt, d, lo, lo+lo/4)
			}
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Duration
	}{
		{"", -1}, {"0", 0}, {"7", 7 * time.Second}, {"-3", -1}, {"soon", -1},
		{"99999999", 10 * time.Minute},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
	}
	for _, tc := range cases {
		if got := parseRetryAfter(tc.in, now); got != tc.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestContextDeadline(t *testing.T) {
	t.Run("server stalls", func(t *testing.T) {
		release := make(chan struct{})
		s := &server{provider: OpenAI, dim: 4, reply: func(w http.ResponseWriter, _ int, _ wireRequest) bool {
			<-release
			return false
		}}
		ts, base := start(t, s)
		defer ts.CloseClientConnections()
		defer close(release)
		c, err := New(context.Background(), OpenAI, "m", WithBaseURL(base), WithDimension(4))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
		defer cancel()
		t0 := time.Now()
		_, err = c.EmbedQuery(ctx, "x")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("error %v, want DeadlineExceeded", err)
		}
		if el := time.Since(t0); el > 5*time.Second {
			t.Fatalf("returned after %v: the deadline was not honoured", el)
		}
	})
	t.Run("Retry-After past the deadline", func(t *testing.T) {
		s := &server{provider: Ollama, dim: 4, reply: func(w http.ResponseWriter, _ int, _ wireRequest) bool {
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"error":"busy"}`)
			return true
		}}
		_, base := start(t, s)
		ns := &noSleep{}
		c, err := New(context.Background(), Ollama, "m", WithBaseURL(base), WithDimension(4), ns.opt())
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err = c.EmbedQuery(ctx, "x")
		var se *StatusError
		if !errors.As(err, &se) || se.StatusCode != 429 || !strings.Contains(err.Error(), "deadline") || !strings.Contains(err.Error(), "busy") {
			t.Fatalf("error %v, want a 429 not retried past the deadline", err)
		}
		if len(ns.waits) != 0 || s.count() != 1 {
			t.Fatalf("waited %v over %d requests", ns.waits, s.count())
		}
	})
	t.Run("attempt timeout without a deadline", func(t *testing.T) {
		release := make(chan struct{})
		s := &server{provider: Ollama, dim: 4, reply: func(w http.ResponseWriter, n int, _ wireRequest) bool {
			if n == 1 {
				<-release
			}
			return false
		}}
		ts, base := start(t, s)
		defer ts.CloseClientConnections()
		defer close(release)
		ns := &noSleep{}
		c, err := New(context.Background(), Ollama, "m", WithBaseURL(base), WithDimension(4), WithAttemptTimeout(100*time.Millisecond), ns.opt())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.EmbedQuery(context.Background(), "x"); err != nil {
			t.Fatalf("the stalled attempt was not retried: %v", err)
		}
		if s.count() != 2 {
			t.Fatalf("%d requests, want 2", s.count())
		}
	})
}

func TestKeyNeverShown(t *testing.T) {
	// The server echoes the key it was sent (as some do in 401 messages).
	s := &server{provider: OpenAI, dim: 4, key: "sk-the-right-one"}
	ts, base := start(t, s)
	_, err := New(context.Background(), OpenAI, "m", WithBaseURL(base), WithAPIKey(testKey))
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != 401 {
		t.Fatalf("error %v, want 401", err)
	}
	if strings.Contains(err.Error(), testKey) || strings.Contains(err.Error(), testKey[5:20]) {
		t.Fatalf("the error shows the key: %v", err)
	}
	if !strings.Contains(err.Error(), "[REDACTED]") || !strings.Contains(err.Error(), "OPENAI_API_KEY") {
		t.Fatalf("error %q should say the key was wrong without showing it", err)
	}

	s.key = testKey
	c, err := New(context.Background(), OpenAI, "m", WithBaseURL(base), WithAPIKey(testKey), (&noSleep{}).opt())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		if out := fmt.Sprintf(f, c); strings.Contains(out, testKey) {
			t.Fatalf("Sprintf(%q) shows the key: %s", f, out)
		}
	}
	if out := fmt.Sprintf("%+v", c.Identity()); strings.Contains(out, testKey) {
		t.Fatalf("the identity holds the key: %s", out)
	}
	// A network error (server gone) must not show it either.
	ts.Close()
	_, err = c.EmbedQuery(context.Background(), "x")
	if err == nil || strings.Contains(err.Error(), testKey) {
		t.Fatalf("network error %v", err)
	}
	// Nor a password in the base URL.
	_, err = New(context.Background(), OpenAI, "m", WithBaseURL("ftp://user:hunter2secret@host/v1"))
	if err == nil || strings.Contains(err.Error(), "hunter2secret") {
		t.Fatalf("bad URL error %v", err)
	}
}

func TestIdentity(t *testing.T) {
	mk := func(t *testing.T, p Provider, model string, opts ...Option) embedder.Identity {
		t.Helper()
		c, err := New(context.Background(), p, model, append([]Option{WithBaseURL("http://unused.invalid:1"), WithDimension(4)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		return c.Identity()
	}
	base := mk(t, OpenAI, "text-embedding-3-small")
	if same := mk(t, OpenAI, "text-embedding-3-small", WithBaseURL("https://other.example/v1"), WithAPIKey("k")); !same.Equal(base) {
		t.Fatalf("the identity depends on the server's address or key: %v vs %v", same, base)
	}
	for name, id := range map[string]embedder.Identity{
		"model":     mk(t, OpenAI, "text-embedding-3-large"),
		"provider":  mk(t, Ollama, "text-embedding-3-small"),
		"revision":  mk(t, OpenAI, "text-embedding-3-small", WithRevision("q8_0")),
		"prefixes":  mk(t, OpenAI, "text-embedding-3-small", WithPrefixes("q: ", "")),
		"normalize": mk(t, OpenAI, "text-embedding-3-small", WithNormalize(false)),
		"reqdims":   mk(t, OpenAI, "text-embedding-3-small", WithRequestDimensions(4)),
	} {
		if id.Equal(base) {
			t.Errorf("changing the %s leaves the identity equal", name)
		}
	}
}

func TestAddressesAndEnv(t *testing.T) {
	env := func(m map[string]string) Option {
		return WithEnv(func(k string) string { return m[k] })
	}
	cases := []struct {
		name     string
		provider Provider
		opts     []Option
		want     string
		key      string
	}{
		{"openai default", OpenAI, nil, "https://api.openai.com/v1/embeddings", ""},
		{"openai env", OpenAI, []Option{env(map[string]string{"OPENAI_BASE_URL": "http://127.0.0.1:8080/v1/", "OPENAI_API_KEY": "k1"})}, "http://127.0.0.1:8080/v1/embeddings", "k1"},
		{"openai option beats env", OpenAI, []Option{env(map[string]string{"OPENAI_BASE_URL": "http://a/v1", "OPENAI_API_KEY": "k1"}), WithBaseURL("http://b/v1"), WithAPIKey("")}, "http://b/v1/embeddings", ""},
		{"ollama default", Ollama, nil, "http://localhost:11434/api/embed", ""},
		{"ollama bare host", Ollama, []Option{env(map[string]string{"OLLAMA_HOST": "0.0.0.0"})}, "http://0.0.0.0:11434/api/embed", ""},
		{"ollama host:port", Ollama, []Option{env(map[string]string{"OLLAMA_HOST": "gpu-box:9999"})}, "http://gpu-box:9999/api/embed", ""},
		{"ollama https", Ollama, []Option{env(map[string]string{"OLLAMA_HOST": "https://ollama.example"})}, "https://ollama.example/api/embed", ""},
		{"ollama ignores OpenAI key", Ollama, []Option{env(map[string]string{"OPENAI_API_KEY": "k1"})}, "http://localhost:11434/api/embed", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := New(context.Background(), tc.provider, "m", append(tc.opts, WithDimension(4))...)
			if err != nil {
				t.Fatal(err)
			}
			if c.endpoint != tc.want || c.apiKey != tc.key {
				t.Fatalf("endpoint %q key %q, want %q %q", c.endpoint, c.apiKey, tc.want, tc.key)
			}
		})
	}
	bad := []struct {
		name string
		fn   func() error
	}{
		{"unknown provider", func() error { _, err := Open(context.Background(), "cohere:x"); return err }},
		{"no colon", func() error { _, err := Open(context.Background(), "openai"); return err }},
		{"empty model", func() error { _, err := Open(context.Background(), "ollama:", WithDimension(4)); return err }},
		{"space in model", func() error { _, err := Open(context.Background(), "ollama:a b", WithDimension(4)); return err }},
		{"ftp URL", func() error { _, err := New(context.Background(), OpenAI, "m", WithBaseURL("ftp://x/v1")); return err }},
		{"query in URL", func() error {
			_, err := New(context.Background(), OpenAI, "m", WithBaseURL("http://x/v1?a=b"))
			return err
		}},
		{"batch 0", func() error { _, err := New(context.Background(), OpenAI, "m", WithBatchSize(0)); return err }},
		{"dims disagree", func() error {
			_, err := New(context.Background(), OpenAI, "m", WithDimension(4), WithRequestDimensions(8))
			return err
		}},
		{"key with newline", func() error {
			_, err := New(context.Background(), OpenAI, "m", WithAPIKey("a\nb"), WithDimension(4))
			return err
		}},
	}
	for _, b := range bad {
		if err := b.fn(); err == nil {
			t.Errorf("%s: no error", b.name)
		}
	}
	if !IsRemoteName("openai:x") || !IsRemoteName("ollama:y") || IsRemoteName("all-MiniLM-L6-v2") || IsRemoteName("C:model") {
		t.Error("IsRemoteName")
	}
}

func TestRequestDimensionsSent(t *testing.T) {
	s := &server{provider: OpenAI, dim: 4}
	_, base := start(t, s)
	c, err := New(context.Background(), OpenAI, "m", WithBaseURL(base), WithRequestDimensions(4))
	if err != nil {
		t.Fatal(err)
	}
	if s.count() != 0 {
		t.Fatalf("WithRequestDimensions fixes the dimension, yet %d probes were sent", s.count())
	}
	if _, err := c.EmbedQuery(context.Background(), "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := New(context.Background(), OpenAI, "m", WithBaseURL(base)); err != nil {
		t.Fatal(err)
	}
	if s.requests[0].Dimensions != 4 || s.requests[1].Dimensions != 0 {
		t.Fatalf("requests %+v: want dimensions 4 when asked, absent otherwise", s.requests)
	}
}

func TestConcurrentUse(t *testing.T) {
	s := &server{provider: Ollama, dim: 8}
	_, base := start(t, s)
	c, err := New(context.Background(), Ollama, "m", WithBaseURL(base), WithBatchSize(2))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			texts := []string{fmt.Sprint("t", g), "x", "y"}
			vs, err := c.EmbedDocuments(context.Background(), texts)
			if err == nil && (len(vs) != 3 || vs[0][1] != unit(fakeVec(texts[0], 8))[1]) {
				err = fmt.Errorf("goroutine %d got the wrong vectors", g)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestErrorMessage(t *testing.T) {
	cases := map[string]string{
		`{"error":{"message":"You exceeded your current quota.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}`: "You exceeded your current quota.",
		`{"error":"model \"nomic\" not found, try pulling it first"}`:                                                                   `model "nomic" not found, try pulling it first`,
		`{"error":"Input validation error","error_type":"Validation"}`:                                                                  "Input validation error",
		`{"message":"overloaded"}`: "overloaded",
		"plain\ntext\x00body":      "plain text body",
		strings.Repeat("é", 400):   strings.Repeat("é", 150) + "...",
	}
	for in, want := range cases {
		if got := errorMessage([]byte(in)); got != want {
			t.Errorf("errorMessage(%.40q) = %q, want %q", in, got, want)
		}
	}
}
