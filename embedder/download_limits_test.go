package embedder

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const tinyModelURLPath = "/vecbolt/tinybert/resolve/v1/onnx/model.onnx"

// pinnedSizes returns m with the sizes of its files pinned.
func pinnedSizes(m RegistryModel, files map[string][]byte) RegistryModel {
	m.Files = append([]RegistryFile(nil), m.Files...)
	for i, f := range m.Files {
		m.Files[i].Size = int64(len(files["/vecbolt/tinybert/resolve/v1/"+f.Path]))
	}
	return m
}

// bounded returns m with MaxSize set on its files.
func bounded(m RegistryModel, max int64) RegistryModel {
	m.Files = append([]RegistryFile(nil), m.Files...)
	for i := range m.Files {
		m.Files[i].MaxSize = max
	}
	return m
}

// junkServer serves the model file as a server that lies about it would,
// and the other files honestly.
func junkServer(t *testing.T, files map[string][]byte, model http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == tinyModelURLPath {
			model(w, r)
			return
		}
		b, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// sendJunk writes n bytes of junk, announcing announce bytes (-1: none, so
// the response is chunked).
func sendJunk(n, announce int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if announce >= 0 {
			w.Header().Set("Content-Length", fmt.Sprint(announce))
		}
		w.WriteHeader(http.StatusOK)
		chunk := bytes.Repeat([]byte("junk"), 4096)
		for sent := 0; sent < n; sent += len(chunk) {
			if _, err := w.Write(chunk[:min(len(chunk), n-sent)]); err != nil {
				return // the client hung up, as it should
			}
			w.(http.Flusher).Flush()
		}
	}
}

// A download never writes more than the file can hold: its pinned size, or
// the cache's maximum when the size is not pinned, and never more than the
// server announced. The server wrote 1 GiB of junk to disk before
// the digest check refused it.
func TestDownloadSizeBounds(t *testing.T) {
	m, files := tinyRegistryModel(t)
	pinned := pinnedSizes(m, files)
	size := len(files[tinyModelURLPath])
	const cap = 64 << 10
	cases := []struct {
		name    string
		model   RegistryModel
		opts    []CacheOption
		server  http.HandlerFunc
		part    []byte // a .part file there before the download
		mention []string
	}{
		{"announces more than the pinned size", pinned, nil, sendJunk(4<<20, 4<<20), nil,
			[]string{"announces 4194304 bytes", fmt.Sprintf("pinned size of %d", size)}},
		{"announces less than the pinned size", pinned, nil, sendJunk(size-1, size-1), nil,
			[]string{fmt.Sprintf("announces %d bytes", size-1), fmt.Sprintf("is %d bytes long", size)}},
		{"sends more than the pinned size unannounced", pinned, nil, sendJunk(4<<20, -1), nil,
			[]string{fmt.Sprintf("sent more than its pinned size of %d", size), fmt.Sprintf("deleted the %d bytes", size)}},
		{"unpinned, announces more than the limit", m, []CacheOption{WithMaxDownloadSize(cap)}, sendJunk(1<<20, 1<<20), nil,
			[]string{"announces 1048576 bytes", "size limit of 65536 bytes"}},
		{"unpinned, sends more than the limit unannounced", m, []CacheOption{WithMaxDownloadSize(cap)}, sendJunk(1<<20, -1), nil,
			[]string{"sent more than the download size limit of 65536", "deleted the 65536 bytes"}},
		{"unpinned, sends more than the registry's bound", bounded(m, cap), nil, sendJunk(1<<20, -1), nil,
			[]string{"sent more than the registry's bound of 65536 bytes", "deleted the 65536 bytes"}},
		{"unpinned, the limit tighter than the registry's bound", bounded(m, 1<<20), []CacheOption{WithMaxDownloadSize(cap)}, sendJunk(1<<20, 1<<20), nil,
			[]string{"announces 1048576 bytes", "size limit of 65536 bytes"}},
		{"a part file longer than the file is dropped", pinned, nil, sendJunk(4<<20, -1), bytes.Repeat([]byte{1}, size+1),
			[]string{"sent more than its pinned size"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestCache(t, junkServer(t, files, tc.server), tc.opts...)
			dir := modelCacheDir(c.Dir(), tc.model)
			part := filepath.Join(dir, "onnx/model.onnx"+partSuffix)
			if tc.part != nil {
				if err := os.MkdirAll(filepath.Dir(part), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(part, tc.part, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := c.EnsureModel(context.Background(), tc.model)
			if !errors.Is(err, ErrDownload) {
				t.Fatalf("got %v, want ErrDownload", err)
			}
			for _, s := range append(tc.mention, tinyModelURLPath) {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
			for _, p := range []string{part, filepath.Join(dir, "onnx/model.onnx")} {
				if st, err := os.Stat(p); err == nil {
					t.Errorf("%s left with %d bytes", p, st.Size())
				}
			}
		})
	}
	// Honest servers, with and without pinned sizes, and a resume, still
	// work under the bounds.
	for _, tc := range []struct {
		name  string
		model RegistryModel
		opts  []CacheOption
		part  int
	}{
		{"pinned sizes", pinned, nil, 0},
		{"pinned sizes, resumed", pinned, nil, size / 2},
		{"unpinned, under the limit", m, []CacheOption{WithMaxDownloadSize(int64(size))}, 0},
		{"unpinned, under the registry's bound", bounded(m, int64(size)), nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, srv := newHubServer(t, files)
			c := newTestCache(t, srv.URL, tc.opts...)
			if tc.part > 0 {
				p := filepath.Join(modelCacheDir(c.Dir(), tc.model), "onnx/model.onnx"+partSuffix)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, files[tinyModelURLPath][:tc.part], 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := c.EnsureModel(context.Background(), tc.model); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A server that stops sending, or drips bytes, fails the download after
// the stall timeout instead of holding the caller forever (the CLI passes
// a context without deadline); a slow but steady one does not.
func TestDownloadStallTimeout(t *testing.T) {
	m, files := tinyRegistryModel(t)
	whole := files[tinyModelURLPath]
	silent := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(whole)))
		w.WriteHeader(http.StatusOK)
		w.Write(whole[:10])
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}
	drip := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(whole)))
		w.WriteHeader(http.StatusOK)
		for i := range whole {
			if _, err := w.Write(whole[i : i+1]); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	noHeaders := func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }
	const stall = 300 * time.Millisecond
	for _, tc := range []struct {
		name    string
		server  http.HandlerFunc
		mention []string
	}{
		{"silent after 10 bytes", silent, []string{"kept 10 bytes", "resume"}},
		{"one byte per 10 ms", drip, []string{"resume"}},
		{"no response headers", noHeaders, []string{"no response within"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestCache(t, junkServer(t, files, tc.server), WithStallTimeout(stall))
			// The test's own deadline, so that a download that never
			// gives up fails the test (and lets the server close).
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, err := c.EnsureModel(ctx, m)
			if ctx.Err() != nil {
				t.Fatalf("the download still ran after 20s (%v)", err)
			}
			if !errors.Is(err, ErrDownload) {
				t.Fatalf("got %v, want ErrDownload", err)
			}
			for _, s := range append(tc.mention, tinyModelURLPath, "300ms", "stall timeout") {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
		})
	}
	t.Run("slow but steady", func(t *testing.T) {
		// 17 KiB every 100 ms: about 0.8 s in all, longer than the stall
		// timeout, but each stretch of the timeout brings more than 16 KiB.
		steady := func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", fmt.Sprint(len(whole)))
			w.WriteHeader(http.StatusOK)
			for b := whole; len(b) > 0; {
				n := min(len(b), 17<<10)
				if _, err := w.Write(b[:n]); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				b = b[n:]
				time.Sleep(100 * time.Millisecond)
			}
		}
		c := newTestCache(t, junkServer(t, files, steady), WithStallTimeout(500*time.Millisecond))
		if _, err := c.EnsureModel(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	})
}

func TestDownloadBoundOptions(t *testing.T) {
	for _, opt := range []CacheOption{WithMaxDownloadSize(0), WithMaxDownloadSize(-1), WithStallTimeout(0), WithStallTimeout(-time.Second)} {
		if _, err := NewModelCache(WithCacheDirectory(t.TempDir()), opt); err == nil {
			t.Error("accepted a bound that is not positive")
		}
	}
	// A bad size in a model description is refused before any request.
	m, _ := tinyRegistryModel(t)
	m.Files = append([]RegistryFile(nil), m.Files...)
	m.Files[0].Size = -1
	c := newTestCache(t, "http://127.0.0.1:1")
	if _, err := c.EnsureModel(context.Background(), m); err == nil || !strings.Contains(err.Error(), "size -1") {
		t.Errorf("negative size: %v", err)
	}
}
