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

// DefaultMaxDownloadSize bounds a file whose size the registry does not pin:
// 2 GiB, the most an ONNX model can hold in one file (protobuf's limit on a
// message; larger models keep their weights in separate external-data
// files, each listed with its own size). Junk from a wrong or hostile server
// fills at most this much disk before the download is refused; the digest
// check then refuses anything smaller.
const DefaultMaxDownloadSize = 2 << 30

// DefaultStallTimeout is how long a download may go without receiving
// stallMinBytes (or, before the transfer starts, without response headers)
// before it fails.
const DefaultStallTimeout = 30 * time.Second

// stallMinBytes is the least a transfer must deliver per stall timeout. A
// server that drips a byte now and then never goes silent, so counting
// silence alone would let it hold a download forever; 16 KiB per 30 s
// (about 0.5 KB/s) fails only such a server, not a slow link.
const stallMinBytes = 16 << 10

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
	maxSize  int64             // bound on a file without a pinned size
	stall    time.Duration     // see WithStallTimeout
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
// header timeout and no overall timeout, since models are large). The stall
// timeout (WithStallTimeout) applies whatever the client.
func WithHTTPClient(h *http.Client) CacheOption {
	return func(c *ModelCache) { c.client = h }
}

// WithProgress writes a progress line to w during downloads; nil turns
// progress off. By default progress goes to stderr only when stderr is a
// terminal.
func WithProgress(w io.Writer) CacheOption {
	return func(c *ModelCache) { c.progress, c.quiet = w, w == nil }
}

// WithMaxDownloadSize bounds the size of a downloaded file whose size the
// registry does not pin (default DefaultMaxDownloadSize; a registry entry's
// MaxSize bounds its file further). A server that announces more is refused
// before anything is written; one that sends more without announcing it is
// cut off at the bound and its partial file deleted. A pinned size
// (RegistryFile.Size) bounds its file exactly instead.
func WithMaxDownloadSize(n int64) CacheOption {
	return func(c *ModelCache) { c.maxSize = n }
}

// WithStallTimeout sets how long a download may wait for its response
// headers, and then for each further 16 KiB of data, before it fails with
// an ErrDownload naming the URL (default DefaultStallTimeout). What arrived
// is kept, so running again resumes it. The bound is per stretch of data,
// not on the whole transfer: a large model on a slow but steady link takes
// as long as it needs.
func WithStallTimeout(d time.Duration) CacheOption {
	return func(c *ModelCache) { c.stall = d }
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
	c := &ModelCache{baseURL: DefaultHubURL, hashes: map[string]string{}, fetching: map[string]*sync.Mutex{},
		maxSize: DefaultMaxDownloadSize, stall: DefaultStallTimeout}
	if err := parseDigestList(os.Getenv(EnvModelSHA256), c.hashes); err != nil {
		return nil, fmt.Errorf("embedder: $%s: %w", EnvModelSHA256, err)
	}
	for _, o := range opts {
		o(c)
	}
	if c.maxSize <= 0 {
		return nil, fmt.Errorf("embedder: WithMaxDownloadSize(%d) must be positive", c.maxSize)
	}
	if c.stall <= 0 {
		return nil, fmt.Errorf("embedder: WithStallTimeout(%v) must be positive", c.stall)
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
// and verifying whatever is missing. The directory can be passed to onnx.Load (embedder/onnx).
func (c *ModelCache) Ensure(ctx context.Context, name string) (string, error) {
	m, ok := LookupModel(name)
	if !ok {
		return "", fmt.Errorf("%w %q (registered: %s)", ErrUnknownModel, name, modelNames())
	}
	return c.EnsureModel(ctx, m)
}

// EnsureModel is Ensure for a model description that need not be in the
// built-in registry (a private mirror, a test model).
//
// A transformer offered in several layouts is fetched in its default one
// (RegistryModel.DefaultLayout, the ONNX export for the built-in entries);
// pass m.ForLayout(layout) to fetch another, as embedder/models.Load does for
// the backend it chose, so only that backend's files are downloaded. The
// layouts share the cache directory (and the tokenizer in it).
func (c *ModelCache) EnsureModel(ctx context.Context, m RegistryModel) (string, error) {
	if err := m.validate(); err != nil {
		return "", err
	}
	if len(m.Layouts()) > 1 {
		var err error
		if m, err = m.ForLayout(m.DefaultLayout()); err != nil {
			return "", err
		}
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
		if err := c.ensureFile(ctx, m, dir, f, want); err != nil {
			return "", err
		}
	}
	if m.Kind == KindStatic {
		return dir, nil // its own config.json describes it
	}
	if err := writeConfigFile(dir, m.Config); err != nil {
		return "", err
	}
	return dir, nil
}

// ensureFile makes dir/f.Path exist with digest want.
func (c *ModelCache) ensureFile(ctx context.Context, m RegistryModel, dir string, f RegistryFile, want string) error {
	rel := f.Path
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
	limit, bound := c.fileBound(f)
	return c.download(ctx, u, dst, want, m.Name+"/"+rel, f.Size, limit, bound)
}

// fileBound returns the most bytes f may hold, and how errors name that
// bound: its pinned size, else the tighter of its registry bound and the
// cache's limit.
func (c *ModelCache) fileBound(f RegistryFile) (int64, string) {
	switch {
	case f.Size > 0:
		return f.Size, fmt.Sprintf("its pinned size of %d bytes", f.Size)
	case f.MaxSize > 0 && f.MaxSize < c.maxSize:
		return f.MaxSize, fmt.Sprintf("the registry's bound of %d bytes for it", f.MaxSize)
	default:
		return c.maxSize, fmt.Sprintf("the download size limit of %d bytes", c.maxSize)
	}
}

// download fetches u into dst+".part", resuming from its current length
// with an HTTP Range request, verifies the digest over the whole file, and
// renames it into place. On a digest mismatch the part file is deleted, so
// nothing unverified ever sits at dst.
//
// size is the file's pinned length, 0 if unknown; limit is the most it may
// hold (see fileBound), named by bound in errors. The file may not grow
// past limit nor past the length the server announced, and the transfer
// fails when it stalls (see WithStallTimeout).
func (c *ModelCache) download(ctx context.Context, u, dst, want, label string, size, limit int64, bound string) (err error) {
	part := dst + partSuffix
	f, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("embedder: %w", err)
	}
	defer f.Close()
	defer func() {
		// An empty part file holds nothing to resume.
		if st, serr := os.Stat(part); err != nil && serr == nil && st.Size() == 0 {
			os.Remove(part)
		}
	}()
	have, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("embedder: %w", err)
	}
	if have > limit {
		// Longer than the file can be: not worth resuming.
		if err := f.Truncate(0); err != nil {
			return fmt.Errorf("embedder: %w", err)
		}
		have = 0
	}
	// The watchdog cancels the request when the server stalls; each
	// stallMinBytes received (and the response headers) rearm it.
	reqCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	watchdog := time.AfterFunc(c.stall, func() { cancel(errStalled) })
	defer watchdog.Stop()
	// stalled returns the error for a request the watchdog cancelled, nil
	// for one that failed otherwise; got is what the part file holds.
	stalled := func(headers bool, got int64) error {
		if !errors.Is(context.Cause(reqCtx), errStalled) {
			return nil
		}
		if !headers {
			return fmt.Errorf("%w: %s: no response within %v (stall timeout)", ErrDownload, u, c.stall)
		}
		kept := ""
		if got > 0 {
			kept = fmt.Sprintf("; kept %d bytes, run again to resume", got)
		}
		return fmt.Errorf("%w: %s: fewer than %d bytes arrived in %v (stall timeout)%s", ErrDownload, u, stallMinBytes, c.stall, kept)
	}
	req, err := http.NewRequestWithContext(reqCtx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrDownload, u, err)
	}
	if have > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(have, 10)+"-")
	}
	resp, err := c.client.Do(req)
	if err != nil {
		if serr := stalled(false, have); serr != nil {
			return serr
		}
		return fmt.Errorf("%w: %s: %v", ErrDownload, u, err)
	}
	defer resp.Body.Close()
	watchdog.Reset(c.stall)
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
		have = 0
		total = resp.ContentLength
	default:
		return fmt.Errorf("%w: GET %s: %s", ErrDownload, u, resp.Status)
	}
	// Refused before a byte is written (a 200 has not yet emptied the part
	// file, whose bytes may still be right).
	if total > limit {
		return fmt.Errorf("%w: %s: the server announces %d bytes, more than %s", ErrDownload, u, total, bound)
	}
	if size > 0 && total >= 0 && total != size {
		return fmt.Errorf("%w: %s: the server announces %d bytes, but %s is %d bytes long", ErrDownload, u, total, label, size)
	}
	if resp.StatusCode == http.StatusOK {
		if err := f.Truncate(0); err != nil {
			return fmt.Errorf("embedder: %w", err)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("embedder: %w", err)
		}
	}
	if resp.StatusCode != http.StatusRequestedRangeNotSatisfiable {
		room := limit - have
		if total >= 0 {
			room = min(room, total-have)
		}
		pw := newProgress(c.progress, label, have, total)
		body := &stallReader{r: resp.Body, watchdog: watchdog, stall: c.stall}
		_, err = io.Copy(&boundedWriter{w: io.MultiWriter(f, pw), room: room}, body)
		pw.done(err)
		switch {
		case errors.Is(err, errTooLong):
			f.Close()
			os.Remove(part)
			return fmt.Errorf("%w: %s sent more than %s; deleted the %d bytes received", ErrDownload, u, bound, have+pw.n)
		case err != nil && ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			if serr := stalled(true, have+pw.n); serr != nil {
				return serr
			}
			// Keep what arrived: the next attempt resumes from it.
			return fmt.Errorf("%w: %s interrupted after %d bytes (run again to resume): %v", ErrDownload, u, have+pw.n, err)
		}
	}
	watchdog.Stop()
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

var (
	errStalled = errors.New("download stalled")
	errTooLong = errors.New("more data than the file may hold")
)

// stallReader rearms the download's watchdog each time stallMinBytes more
// have arrived.
type stallReader struct {
	r        io.Reader
	watchdog *time.Timer
	stall    time.Duration
	since    int // bytes since the watchdog was last rearmed
}

func (s *stallReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.since += n
	if s.since >= stallMinBytes {
		s.watchdog.Reset(s.stall)
		s.since = 0
	}
	return n, err
}

// boundedWriter passes at most room bytes to w and fails with errTooLong
// on more, so that nothing past the bound reaches the disk.
type boundedWriter struct {
	w    io.Writer
	room int64
}

func (b *boundedWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > b.room {
		n, err := b.w.Write(p[:b.room])
		b.room -= int64(n)
		if err == nil {
			err = errTooLong
		}
		return n, err
	}
	n, err := b.w.Write(p)
	b.room -= int64(n)
	return n, err
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

// ctxReader stops a long read (hashing a large model file) when ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
