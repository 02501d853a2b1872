package embedder

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"golang.org/x/term"
)

// DefaultHubURL is where registered models are downloaded from.
const DefaultHubURL = "https://huggingface.co"

// partSuffix marks a download in progress; it is resumed from its length.
const partSuffix = ".part"

// ErrNotCached is returned in offline mode for a model whose files are not
// (all) in the cache.
var ErrNotCached = errors.New("embedder: model not in the cache")

// ErrChecksum is returned when a downloaded or cached file's SHA-256 differs
// from the pinned one. A downloaded file that fails is deleted.
var ErrChecksum = errors.New("embedder: SHA-256 mismatch")

// ErrUnpinned is returned when a file has no pinned SHA-256 and the caller
// supplied none: vecbolt does not install files it cannot verify.
var ErrUnpinned = errors.New("embedder: no pinned SHA-256")

// ErrUnknownModel is returned for a name that is neither a registered
// model nor a directory.
var ErrUnknownModel = errors.New("embedder: unknown model")

// ErrDownload is returned when the server refuses a file (e.g. 404) or the
// transfer fails; a partial transfer is kept and resumed next time.
var ErrDownload = errors.New("embedder: download failed")

// ModelCache fetches registered models into a local cache directory and
// verifies them. It is safe for concurrent use: goroutines asking for the
// same model wait for one fetch. Two processes fetching the same model at
// once may interleave writes to the same .part file; the digest check then
// fails and deletes it, and a retry succeeds, so nothing unverified is ever
// renamed into place.
type ModelCache struct {
	mu       sync.Mutex
	fetching map[string]*sync.Mutex // per model directory

	dir      string
	baseURL  string
	offline  bool
	client   *http.Client
	progress io.Writer
	quiet    bool              // WithProgress(nil): no progress even on a terminal
	hashes   map[string]string // "model/path" -> hex digest supplied at run time
}

// CacheOption configures a ModelCache.
type CacheOption func(*ModelCache)

// WithCacheDirectory stores models under dir instead of CacheDir().
func WithCacheDirectory(dir string) CacheOption {
	return func(c *ModelCache) { c.dir = dir }
}

// WithBaseURL fetches from another hub or mirror (files are read from
// BASE/REPO/resolve/REVISION/PATH, the Hugging Face layout).
func WithBaseURL(u string) CacheOption {
	return func(c *ModelCache) { c.baseURL = strings.TrimRight(u, "/") }
}

// WithOffline never touches the network: a model not fully cached is an
// ErrNotCached error.
func WithOffline(on bool) CacheOption {
	return func(c *ModelCache) { c.offline = on }
}

// WithHTTPClient sets the HTTP client (default: one with a 30 s connect and
// header timeout and no overall timeout, since models are large).
func WithHTTPClient(h *http.Client) CacheOption {
	return func(c *ModelCache) { c.client = h }
}

// WithProgress writes a progress line to w during downloads; nil turns
// progress off. By default progress goes to stderr only when stderr is a
// terminal.
func WithProgress(w io.Writer) CacheOption {
	return func(c *ModelCache) { c.progress, c.quiet = w, w == nil }
}

// EnvModelSHA256 names the environment variable that supplies digests at
// run time, for programs (like the vecbolt CLI) whose users cannot call
// WithFileSHA256: whitespace- or comma-separated MODEL/PATH=HEX entries, e.g.
//
//	VECBOLT_MODEL_SHA256="all-MiniLM-L6-v2/onnx/model.onnx=<hex> all-MiniLM-L6-v2/tokenizer.json=<hex>"
//
// WithFileSHA256 options take precedence over it.
const EnvModelSHA256 = "VECBOLT_MODEL_SHA256"

// WithFileSHA256 supplies the expected digest of one file of a model, for
// files the registry does not pin (or to pin a different revision). It
// overrides the registry's value and $VECBOLT_MODEL_SHA256.
func WithFileSHA256(model, file, sha256Hex string) CacheOption {
	return func(c *ModelCache) { c.hashes[model+"/"+file] = strings.ToLower(sha256Hex) }
}

// NewModelCache returns a cache rooted at CacheDir() unless configured
// otherwise. It creates nothing until a model is fetched.
func NewModelCache(opts ...CacheOption) (*ModelCache, error) {
	c := &ModelCache{baseURL: DefaultHubURL, hashes: map[string]string{}, fetching: map[string]*sync.Mutex{}}
	if err := parseDigestList(os.Getenv(EnvModelSHA256), c.hashes); err != nil {
		return nil, fmt.Errorf("embedder: $%s: %w", EnvModelSHA256, err)
	}
	for _, o := range opts {
		o(c)
	}
	if c.dir == "" {
		d, err := CacheDir()
		if err != nil {
			return nil, err
		}
		c.dir = d
	}
	if c.client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.ResponseHeaderTimeout = 30 * time.Second
		c.client = &http.Client{Transport: tr}
	}
	if c.progress == nil && !c.quiet && term.IsTerminal(int(os.Stderr.Fd())) {
		c.progress = os.Stderr
	}
	if _, err := url.Parse(c.baseURL); err != nil {
		return nil, fmt.Errorf("embedder: base URL %q: %w", c.baseURL, err)
	}
	for k, h := range c.hashes {
		if !sha256RE.MatchString(h) {
			return nil, fmt.Errorf("embedder: WithFileSHA256 for %s: %q is not a hex SHA-256", k, h)
		}
	}
	return c, nil
}

// parseDigestList adds MODEL/PATH=HEX entries to m.
func parseDigestList(s string, m map[string]string) error {
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || unicode.IsSpace(r) }) {
		k, v, ok := strings.Cut(f, "=")
		if !ok || !strings.Contains(k, "/") {
			return fmt.Errorf("entry %q is not MODEL/PATH=SHA256", f)
		}
		v = strings.ToLower(v)
		if !sha256RE.MatchString(v) {
			return fmt.Errorf("entry %q: %q is not a hex SHA-256", f, v)
		}
		m[k] = v
	}
	return nil
}

// Dir returns the cache's root directory.
func (c *ModelCache) Dir() string { return c.dir }

// Ensure returns the local directory of a registered model, downloading
// and verifying whatever is missing. The directory can be passed to LoadONNX.
func (c *ModelCache) Ensure(ctx context.Context, name string) (string, error) {
	m, ok := LookupModel(name)
	if !ok {
		return "", fmt.Errorf("%w %q (registered: %s)", ErrUnknownModel, name, modelNames())
	}
	return c.EnsureModel(ctx, m)
}

// EnsureModel is Ensure for a model description that need not be in the
// built-in registry (a private mirror, a test model).
func (c *ModelCache) EnsureModel(ctx context.Context, m RegistryModel) (string, error) {
	if err := m.validate(); err != nil {
		return "", err
	}
	dir := modelCacheDir(c.dir, m)
	c.mu.Lock()
	lock, ok := c.fetching[dir]
	if !ok {
		lock = &sync.Mutex{}
		c.fetching[dir] = lock
	}
	c.mu.Unlock()
	lock.Lock()
	defer lock.Unlock()
	for _, f := range m.Files {
		want := f.SHA256
		if h, ok := c.hashes[m.Name+"/"+f.Path]; ok {
			want = h
		}
		if want == "" {
			return "", fmt.Errorf("%w for %s of model %s: the registry does not pin it yet; "+
				"supply the digest you trust with WithFileSHA256(%q, %q, HEX) or $%s=\"%s/%s=HEX\"",
				ErrUnpinned, f.Path, m.Name, m.Name, f.Path, EnvModelSHA256, m.Name, f.Path)
		}
		if err := c.ensureFile(ctx, m, dir, f.Path, want); err != nil {
			return "", err
		}
	}
	if err := writeConfigFile(dir, m.Config); err != nil {
		return "", err
	}
	return dir, nil
}

// ensureFile makes dir/rel exist with digest want.
func (c *ModelCache) ensureFile(ctx context.Context, m RegistryModel, dir, rel, want string) error {
	dst := filepath.Join(dir, filepath.FromSlash(rel))
	if got, err := fileSHA256(ctx, dst); err == nil {
		if got == want {
			return nil
		}
		if c.offline {
			return fmt.Errorf("%w: cached %s has sha256 %s, want %s (offline: not re-downloading)", ErrChecksum, dst, got, want)
		}
		// A damaged or stale cached file: fetch it again.
		if err := os.Remove(dst); err != nil {
			return fmt.Errorf("embedder: removing stale %s: %w", dst, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if c.offline {
		return fmt.Errorf("%w: %s of model %s is not at %s and offline mode forbids downloading it", ErrNotCached, rel, m.Name, dst)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("embedder: creating cache directory: %w", err)
	}
	rev := m.Revision
	if rev == "" {
		rev = "main"
	}
	u := c.baseURL + "/" + path.Join(m.Repo, "resolve", rev, rel)
	return c.download(ctx, u, dst, want, m.Name+"/"+rel)
}

// download fetches u into dst+".part", resuming from its current length
// with an HTTP Range request, verifies the digest over the whole file, and
// renames it into place. On a digest mismatch the part file is deleted, so
// nothing unverified ever sits at dst.
func (c *ModelCache) download(ctx context.Context, u, dst, want, label string) error {
	part := dst + partSuffix
	f, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("embedder: %w", err)
	}
	defer f.Close()
	have, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("embedder: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrDownload, u, err)
	}
	if have > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(have, 10)+"-")
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrDownload, u, err)
	}
	defer resp.Body.Close()
	total := int64(-1)
	switch {
	case resp.StatusCode == http.StatusPartialContent && have > 0:
		start, size, ok := parseContentRange(resp.Header.Get("Content-Range"))
		if !ok || start != have {
			return fmt.Errorf("%w: %s: server answered Range %d- with Content-Range %q", ErrDownload, u, have, resp.Header.Get("Content-Range"))
		}
		total = size
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && have > 0:
		// The part file is already as long as the file (or longer, so
		// wrong): verify it as is; a mismatch deletes it below.
		total = have
	case resp.StatusCode == http.StatusOK:
		// No resume (fresh download, or the server ignores Range).
		if err := f.Truncate(0); err != nil {
			return fmt.Errorf("embedder: %w", err)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("embedder: %w", err)
		}
		have = 0
		total = resp.ContentLength
	default:
		return fmt.Errorf("%w: GET %s: %s", ErrDownload, u, resp.Status)
	}
	if resp.StatusCode != http.StatusRequestedRangeNotSatisfiable {
		pw := newProgress(c.progress, label, have, total)
		_, err = io.Copy(io.MultiWriter(f, pw), resp.Body)
		pw.done(err)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// Keep what arrived: the next attempt resumes from it.
			return fmt.Errorf("%w: %s interrupted after %d bytes (run again to resume): %v", ErrDownload, u, have+pw.n, err)
		}
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("embedder: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("embedder: %w", err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, ctxReader{ctx, f}); err != nil {
		return fmt.Errorf("embedder: hashing %s: %w", part, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		f.Close()
		os.Remove(part)
		return fmt.Errorf("%w: %s downloaded from %s has sha256 %s, want %s; deleted it", ErrChecksum, label, u, got, want)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("embedder: %w", err)
	}
	if err := os.Rename(part, dst); err != nil {
		return fmt.Errorf("embedder: %w", err)
	}
	return syncDir(filepath.Dir(dst))
}

// parseContentRange parses "bytes START-END/SIZE" (SIZE may be "*").
func parseContentRange(s string) (start, size int64, ok bool) {
	s, found := strings.CutPrefix(s, "bytes ")
	if !found {
		return 0, 0, false
	}
	rng, sz, found := strings.Cut(s, "/")
	if !found {
		return 0, 0, false
	}
	a, _, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, false
	}
	start, err := strconv.ParseInt(a, 10, 64)
	if err != nil || start < 0 {
		return 0, 0, false
	}
	size = -1
	if sz != "*" {
		if size, err = strconv.ParseInt(sz, 10, 64); err != nil || size < 0 {
			return 0, 0, false
		}
	}
	return start, size, true
}

// fileSHA256 hashes a file; os.ErrNotExist passes through for a missing one.
func fileSHA256(ctx context.Context, p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, ctxReader{ctx, f}); err != nil {
		return "", fmt.Errorf("embedder: hashing %s: %w", p, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// writeConfigFile writes vecbolt.json atomically (temp file + rename) so a
// reader never sees half of it.
func writeConfigFile(dir string, cfg ModelConfig) error {
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	dst := filepath.Join(dir, ConfigFileName)
	if old, err := os.ReadFile(dst); err == nil && string(old) == string(b) {
		return nil
	}
	tmp, err := os.CreateTemp(dir, ConfigFileName+".tmp*")
	if err != nil {
		return fmt.Errorf("embedder: writing %s: %w", dst, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("embedder: writing %s: %w", dst, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("embedder: writing %s: %w", dst, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("embedder: writing %s: %w", dst, err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("embedder: writing %s: %w", dst, err)
	}
	return syncDir(dir)
}

// syncDir makes a rename durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("embedder: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("embedder: syncing %s: %w", dir, err)
	}
	return nil
}

// progress draws one self-overwriting line per file on a terminal.
type progress struct {
	w          io.Writer
	label      string
	base, n    int64
	total      int64
	lastDrawn  time.Time
	lastDrawnN int64
}

func newProgress(w io.Writer, label string, base, total int64) *progress {
	return &progress{w: w, label: label, base: base, total: total}
}

func (p *progress) Write(b []byte) (int, error) {
	p.n += int64(len(b))
	if p.w != nil && time.Since(p.lastDrawn) > 200*time.Millisecond {
		p.draw()
	}
	return len(b), nil
}

func (p *progress) draw() {
	p.lastDrawn, p.lastDrawnN = time.Now(), p.n
	got := float64(p.base+p.n) / 1e6
	if p.total > 0 {
		fmt.Fprintf(p.w, "\r%s: %.1f / %.1f MB (%d%%)", p.label, got, float64(p.total)/1e6, (p.base+p.n)*100/p.total)
	} else {
		fmt.Fprintf(p.w, "\r%s: %.1f MB", p.label, got)
	}
}

func (p *progress) done(err error) {
	if p.w == nil {
		return
	}
	p.draw()
	if err != nil {
		fmt.Fprintln(p.w, " interrupted")
	} else {
		fmt.Fprintln(p.w, " done")
	}
}

// LoadModel opens a transformer model by registered name or directory: an
// existing directory is loaded as is; otherwise nameOrDir must be a
// registered model, fetched through cache (downloaded if missing, unless the
// cache is offline). A nil cache means NewModelCache() with defaults.
func LoadModel(ctx context.Context, nameOrDir string, cache *ModelCache, opts ...ONNXOption) (*ONNX, error) {
	if st, err := os.Stat(nameOrDir); err == nil && st.IsDir() {
		return LoadONNX(ctx, nameOrDir, opts...)
	}
	if _, ok := LookupModel(nameOrDir); !ok {
		return nil, fmt.Errorf("%w %q: not a directory and not a registered model (registered: %s)", ErrUnknownModel, nameOrDir, modelNames())
	}
	if cache == nil {
		var err error
		if cache, err = NewModelCache(); err != nil {
			return nil, err
		}
	}
	dir, err := cache.Ensure(ctx, nameOrDir)
	if err != nil {
		return nil, err
	}
	return LoadONNX(ctx, dir, opts...)
}
