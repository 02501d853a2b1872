// Package remote embeds text with an embedding server over HTTP: any server
// speaking OpenAI's POST /v1/embeddings (OpenAI itself, llama.cpp's
// llama-server, vLLM, Hugging Face TEI's OpenAI route) or Ollama's
// POST /api/embed. A Client implements embedder.Embedder, so a database
// uses a server's model exactly as it uses a local one.
//
// Invariants:
//   - A Client is immutable after New returns and safe for concurrent use.
//   - Its dimension is fixed when New returns: given (WithDimension) or
//     learned from one probe request, and every later response is checked
//     against it, as are the count of vectors and their values (finite, not
//     all zero). A wrong response is an error (ErrBadResponse,
//     ErrDimensionMismatch), never a vector stored.
//   - The API key goes only into the Authorization header of requests. It
//     is not part of the identity (so never stored in a database file), not
//     printed by the Client's String or Format, and redacted from every
//     error, including a server's message that quotes it.
//   - The identity is the provider and the model name (plus the options that
//     change the vectors: revision, requested dimensions, prefixes,
//     normalization), not the server's address: see Identity.
//   - Nothing is read from the environment unless the caller passes WithEnv
//     (the vecbolt command does, with os.Getenv); the package holds no
//     mutable state.
//
// The wire formats are small enough that a client library would add more
// than it saves: the OpenAI Go SDK brings its own retry and configuration
// model (and reads OPENAI_API_KEY itself), and Ollama's client package
// pulls in the server's module. Both formats are decoded strictly here
// (wire.go), so that a malformed answer is a clear error.
package remote

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vecbolt/vecbolt/embedder"
)

// Provider names a wire format.
type Provider string

const (
	// OpenAI is POST {base}/embeddings with a JSON body {"model", "input"}
	// and an answer {"data": [{"index", "embedding"}]}; base defaults to
	// https://api.openai.com/v1. llama.cpp's server, vLLM and TEI serve the
	// same route under /v1.
	OpenAI Provider = "openai"
	// Ollama is POST {host}/api/embed with {"model", "input"} and an answer
	// {"embeddings": [[...]]}; host defaults to http://localhost:11434.
	Ollama Provider = "ollama"
)

// Defaults, from each provider's documentation.
const (
	DefaultOpenAIBaseURL = "https://api.openai.com/v1"
	DefaultOllamaHost    = "http://localhost:11434"
	ollamaDefaultPort    = "11434"
)

var (
	// ErrBadResponse is returned (wrapped) for a response that does not
	// follow the wire format: not JSON, the wrong number of vectors, an
	// index out of range or repeated, a value that is not a finite number,
	// an all-zero vector.
	ErrBadResponse = errors.New("remote: bad response from embedding server")
	// ErrDimensionMismatch is returned (wrapped) when the server returns
	// vectors of another length than the client's dimension.
	ErrDimensionMismatch = errors.New("remote: vector length changed")
	// ErrInvalidName is returned (wrapped) for a model name Open does not
	// accept.
	ErrInvalidName = errors.New("remote: invalid model name")
)

// StatusError is a server's refusal: an HTTP status other than 200, after
// the retries Retryable statuses get.
type StatusError struct {
	Provider Provider
	Model    string
	// Host is the server's host (never its user information).
	Host string
	// StatusCode is the HTTP status of the last attempt.
	StatusCode int
	// Message is the server's own error message, if its body had one, with
	// the API key redacted and capped in length.
	Message string
	// Attempts is how many requests were sent.
	Attempts int
}

func (e *StatusError) Error() string {
	msg := ""
	if e.Message != "" {
		msg = ": " + e.Message
	}
	hint := ""
	switch e.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		if e.Provider == OpenAI {
			hint = " (check the API key: OPENAI_API_KEY for the vecbolt command)"
		}
	case http.StatusNotFound:
		hint = " (is the model name right, and does the server serve this route?)"
	}
	tries := ""
	if e.Attempts > 1 {
		tries = fmt.Sprintf(" after %d attempts", e.Attempts)
	}
	return fmt.Sprintf("remote: %s:%s at %s: HTTP %d%s%s%s", e.Provider, e.Model, e.Host, e.StatusCode, tries, msg, hint)
}

// Retryable reports whether the status is one New's client retries: 429
// (rate limited) and 5xx (server trouble).
func (e *StatusError) Retryable() bool { return retryableStatus(e.StatusCode) }

func retryableStatus(code int) bool {
	return code == http.StatusTooManyRequests || (code >= 500 && code <= 599)
}

// Option configures New and Open.
type Option func(*options)

type options struct {
	baseURL     string
	apiKey      string
	apiKeySet   bool
	hc          *http.Client
	batch       int
	retries     int
	backoff     time.Duration
	maxBackoff  time.Duration
	attemptTO   time.Duration
	dim         int
	reqDim      int
	queryPrefix string
	docPrefix   string
	revision    string
	normalize   bool
	maxBody     int64
	getenv      func(string) string
	// sleep waits d or until ctx ends; tests replace it to record waits.
	sleep func(ctx context.Context, d time.Duration) error
}

// WithBaseURL sets the server: for OpenAI the base the route /embeddings is
// appended to (https://host/v1), for Ollama the host (http://host:11434).
// It takes precedence over the environment.
func WithBaseURL(u string) Option { return func(o *options) { o.baseURL = u } }

// WithAPIKey sets the key sent as "Authorization: Bearer KEY". It takes
// precedence over the environment; an empty key sends no header.
func WithAPIKey(key string) Option {
	return func(o *options) { o.apiKey, o.apiKeySet = key, true }
}

// WithHTTPClient sends requests through c (a proxy, custom TLS, tests).
func WithHTTPClient(c *http.Client) Option { return func(o *options) { o.hc = c } }

// WithBatchSize sets how many texts go in one request (default 32, which
// TEI's default max_client_batch_size accepts; OpenAI accepts up to 2048).
func WithBatchSize(n int) Option { return func(o *options) { o.batch = n } }

// WithRetries sets how many times a request refused with 429 or 5xx, or
// lost to a network error, is sent again (default 4; 0 for none).
func WithRetries(n int) Option { return func(o *options) { o.retries = n } }

// WithBackoff sets the wait before the first retry and the cap the waits
// double up to (defaults 500ms and 20s); each wait gets up to 25% random
// jitter. A Retry-After header from the server replaces the computed wait.
func WithBackoff(first, max time.Duration) Option {
	return func(o *options) { o.backoff, o.maxBackoff = first, max }
}

// WithAttemptTimeout bounds one request (default 2 minutes), so that a
// server that stops answering is retried or reported even when the caller's
// context has no deadline.
func WithAttemptTimeout(d time.Duration) Option { return func(o *options) { o.attemptTO = d } }

// WithDimension states the vector length the server's model returns. New
// then sends no probe request, and the first response is checked against
// it like every other.
func WithDimension(n int) Option { return func(o *options) { o.dim = n } }

// WithRequestDimensions asks the server for vectors of length n (the
// "dimensions" field; OpenAI's text-embedding-3 models and Ollama honour
// it). It is part of the identity.
func WithRequestDimensions(n int) Option { return func(o *options) { o.reqDim = n } }

// WithPrefixes sets text prepended to queries and to documents (e5 models
// expect "query: " and "passage: "). They are part of the identity.
func WithPrefixes(query, document string) Option {
	return func(o *options) { o.queryPrefix, o.docPrefix = query, document }
}

// WithRevision records which build of the model the server runs (an Ollama
// model digest, a quantization), so that two collections embedded by
// different builds under one name refuse each other. It is part of the
// identity.
func WithRevision(rev string) Option { return func(o *options) { o.revision = rev } }

// WithNormalize sets whether vectors are scaled to unit length (default
// true: cosine and dot-product search then agree, and the built-in models
// do the same). It is part of the identity.
func WithNormalize(on bool) Option { return func(o *options) { o.normalize = on } }

// WithMaxResponseBytes bounds the size of one response body (default 64
// MiB), so a wrong server cannot exhaust memory.
func WithMaxResponseBytes(n int64) Option { return func(o *options) { o.maxBody = n } }

// WithEnv reads the server's address and key from getenv when WithBaseURL
// and WithAPIKey do not give them: OPENAI_BASE_URL and OPENAI_API_KEY for
// OpenAI, OLLAMA_HOST for Ollama. Pass os.Getenv to follow the process
// environment, as the vecbolt command does.
func WithEnv(getenv func(string) string) Option { return func(o *options) { o.getenv = getenv } }

// Client is an embedding server's model as an embedder.Embedder.
type Client struct {
	provider  Provider
	model     string
	endpoint  string // full URL of the route, without user information
	host      string // for messages
	userinfo  *url.Userinfo
	apiKey    string
	hc        *http.Client
	o         options
	id        embedder.Identity
	redactKey func(string) string
}

// IsRemoteName reports whether name has the form PROVIDER:MODEL with a
// provider this package speaks, so callers can route it here.
func IsRemoteName(name string) bool {
	p, _, ok := strings.Cut(name, ":")
	return ok && (Provider(p) == OpenAI || Provider(p) == Ollama)
}

// Open is New for a name of the form "openai:MODEL" or "ollama:MODEL", the
// form the vecbolt command's --model takes.
func Open(ctx context.Context, name string, opts ...Option) (*Client, error) {
	p, model, ok := strings.Cut(name, ":")
	if !ok || (Provider(p) != OpenAI && Provider(p) != Ollama) {
		return nil, fmt.Errorf("%w %q: want openai:MODEL or ollama:MODEL", ErrInvalidName, name)
	}
	return New(ctx, Provider(p), model, opts...)
}

// New returns a client for model on a server of provider's wire format.
// Unless WithDimension gives the vector length, it sends one short probe
// request to learn it, so New fails at once when the server is unreachable,
// the key is wrong or the model is unknown.
func New(ctx context.Context, provider Provider, model string, opts ...Option) (*Client, error) {
	o := options{batch: 32, retries: 4, backoff: 500 * time.Millisecond, maxBackoff: 20 * time.Second,
		attemptTO: 2 * time.Minute, normalize: true, maxBody: 64 << 20, sleep: sleepCtx}
	for _, opt := range opts {
		opt(&o)
	}
	if err := validModel(model); err != nil {
		return nil, fmt.Errorf("%w %s:%q: %v", ErrInvalidName, provider, model, err)
	}
	switch {
	case o.batch < 1 || o.batch > 2048:
		return nil, fmt.Errorf("remote: batch size %d must be 1..2048", o.batch)
	case o.retries < 0 || o.retries > 100:
		return nil, fmt.Errorf("remote: retries %d must be 0..100", o.retries)
	case o.backoff < 0 || o.maxBackoff < o.backoff:
		return nil, fmt.Errorf("remote: backoff %v..%v must be non-negative and increasing", o.backoff, o.maxBackoff)
	case o.attemptTO <= 0:
		return nil, fmt.Errorf("remote: attempt timeout %v must be positive", o.attemptTO)
	case o.dim < 0 || o.dim > 65536 || o.reqDim < 0 || o.reqDim > 65536:
		return nil, fmt.Errorf("remote: dimension %d or requested dimensions %d must be 0..65536", o.dim, o.reqDim)
	case o.dim != 0 && o.reqDim != 0 && o.dim != o.reqDim:
		return nil, fmt.Errorf("remote: dimension %d differs from the requested dimensions %d", o.dim, o.reqDim)
	case o.maxBody < 1024:
		return nil, fmt.Errorf("remote: response bound %d bytes is below 1 KiB", o.maxBody)
	}
	if o.dim == 0 {
		o.dim = o.reqDim
	}
	c := &Client{provider: provider, model: model, o: o, hc: o.hc}
	if c.hc == nil {
		c.hc = &http.Client{}
	}
	env := func(k string) string {
		if o.getenv == nil {
			return ""
		}
		return o.getenv(k)
	}
	var base, route string
	switch provider {
	case OpenAI:
		base = o.baseURL
		if base == "" {
			base = env("OPENAI_BASE_URL")
		}
		if base == "" {
			base = DefaultOpenAIBaseURL
		}
		route = "/embeddings"
		c.apiKey = o.apiKey
		if !o.apiKeySet {
			c.apiKey = env("OPENAI_API_KEY")
		}
	case Ollama:
		base = o.baseURL
		if base == "" {
			base = env("OLLAMA_HOST")
		}
		if base == "" {
			base = DefaultOllamaHost
		}
		route = "/api/embed"
		c.apiKey = o.apiKey // Ollama needs none; a proxy in front may.
	default:
		return nil, fmt.Errorf("%w: provider %q (want %s or %s)", ErrInvalidName, provider, OpenAI, Ollama)
	}
	if strings.ContainsAny(c.apiKey, "\r\n") {
		return nil, errors.New("remote: the API key contains a line break")
	}
	u, err := parseBase(provider, base)
	if err != nil {
		return nil, err
	}
	c.userinfo, u.User = u.User, nil
	c.host = u.Host
	u.Path = strings.TrimSuffix(u.Path, "/") + route
	c.endpoint = u.String()
	key := c.apiKey
	c.redactKey = func(s string) string {
		if key != "" {
			s = strings.ReplaceAll(s, key, "[REDACTED]")
		}
		if c.userinfo != nil {
			if pw, ok := c.userinfo.Password(); ok && pw != "" {
				s = strings.ReplaceAll(s, pw, "[REDACTED]")
			}
		}
		return s
	}
	if o.dim == 0 {
		vs, err := c.embed(ctx, []string{"dimension probe"}, 0)
		if err != nil {
			return nil, fmt.Errorf("remote: %s:%s: learning the vector length: %w", provider, model, err)
		}
		c.o.dim = len(vs[0])
	}
	c.id = c.identity()
	return c, nil
}

// parseBase accepts what users put in OPENAI_BASE_URL and OLLAMA_HOST. An
// Ollama host may lack a scheme and a port ("localhost", "0.0.0.0:11434"),
// as the Ollama command accepts.
func parseBase(p Provider, base string) (*url.URL, error) {
	raw := strings.TrimSpace(base)
	if p == Ollama && !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse quotes the input, which may hold a password.
		return nil, fmt.Errorf("remote: %s server address is not a URL", p)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("remote: %s server address %q must be http(s)://HOST[:PORT][/PATH]", p, u.Redacted())
	}
	if p == Ollama && u.Port() == "" && u.Scheme == "http" && !strings.HasSuffix(u.Host, "]") {
		u.Host += ":" + ollamaDefaultPort
	}
	return u, nil
}

func validModel(m string) error {
	switch {
	case m == "":
		return errors.New("the model name is empty")
	case len(m) > 256:
		return errors.New("the model name is longer than 256 bytes")
	case !utf8.ValidString(m):
		return errors.New("the model name is not valid UTF-8")
	}
	for _, r := range m {
		if r < 0x20 || r == 0x7f || r == ' ' {
			return errors.New("the model name contains a space or control character")
		}
	}
	return nil
}

// identity derives the model's identity. The server's address is left out
// on purpose: the same model served from another host (a moved server, a
// proxy, OPENAI_BASE_URL switched to a gateway) makes the same vectors, and
// a collection must not need re-embedding because its server moved. What
// does change the vectors (model name, WithRevision, requested dimensions,
// prefixes, normalization) is in it. Two servers serving different weights
// under one name are told apart by WithRevision, and a different vector
// length by the dimension check.
func (c *Client) identity() embedder.Identity {
	h := sha256.New()
	for _, f := range []string{"vecbolt-remote-v1", string(c.provider), c.model, c.o.revision,
		strconv.Itoa(c.o.reqDim), c.o.queryPrefix, c.o.docPrefix, strconv.FormatBool(c.o.normalize)} {
		h.Write([]byte(f))
		h.Write([]byte{0})
	}
	return embedder.Identity{
		Name:    string(c.provider) + ":" + c.model,
		Hash:    hex.EncodeToString(h.Sum(nil)),
		Dim:     c.o.dim,
		Pooling: "server",
	}
}

// Identity describes the model; see identity for what it holds.
func (c *Client) Identity() embedder.Identity { return c.id }

// String describes the client without its key.
func (c *Client) String() string {
	return fmt.Sprintf("remote.Client(%s:%s at %s, dim %d)", c.provider, c.model, c.host, c.o.dim)
}

// Format prints String for every verb, so that %v, %+v and %#v of a Client
// cannot show its key.
func (c *Client) Format(f fmt.State, _ rune) { io.WriteString(f, c.String()) }

// EmbedDocuments embeds texts, at most the batch size per request, in
// order. An empty or all-whitespace text is embedder.ErrEmptyText; text
// that is not valid UTF-8 is refused before anything is sent.
func (c *Client) EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error) {
	in := make([]string, len(texts))
	for i, t := range texts {
		if err := checkText(t); err != nil {
			return nil, fmt.Errorf("remote: text %d: %w", i, err)
		}
		in[i] = c.o.docPrefix + t
	}
	out := make([][]float32, 0, len(texts))
	for start := 0; start < len(in); start += c.o.batch {
		end := min(start+c.o.batch, len(in))
		vs, err := c.embed(ctx, in[start:end], c.o.dim)
		if err != nil {
			return nil, fmt.Errorf("remote: texts %d..%d: %w", start, end-1, err)
		}
		out = append(out, vs...)
	}
	return out, nil
}

// EmbedQuery embeds one search query, with the query prefix.
func (c *Client) EmbedQuery(ctx context.Context, text string) ([]float32, error) {
	if err := checkText(text); err != nil {
		return nil, fmt.Errorf("remote: query: %w", err)
	}
	vs, err := c.embed(ctx, []string{c.o.queryPrefix + text}, c.o.dim)
	if err != nil {
		return nil, err
	}
	return vs[0], nil
}

func checkText(t string) error {
	if strings.TrimSpace(t) == "" {
		return embedder.ErrEmptyText
	}
	if !utf8.ValidString(t) {
		return errors.New("text is not valid UTF-8")
	}
	return nil
}

// embed sends one batch, retrying 429, 5xx and network errors, and returns
// its checked vectors. dim 0 accepts any length common to the batch (the
// probe).
func (c *Client) embed(ctx context.Context, batch []string, dim int) ([][]float32, error) {
	body, err := encodeRequest(c.provider, c.model, batch, c.o.reqDim)
	if err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		status, data, retryAfter, err := c.post(ctx, body)
		if err == nil && status == http.StatusOK {
			return c.decode(data, len(batch), dim)
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("remote: %s:%s at %s: %w", c.provider, c.model, c.host, ctxErr)
		}
		var last error
		if err != nil {
			if errors.Is(err, ErrBadResponse) {
				return nil, err // too large: sending it again would not help
			}
			last = err
		} else {
			last = &StatusError{Provider: c.provider, Model: c.model, Host: c.host, StatusCode: status,
				Message: c.redactKey(errorMessage([]byte(c.redactKey(string(data))))), Attempts: attempt}
			if !retryableStatus(status) {
				return nil, last
			}
		}
		if attempt > c.o.retries {
			return nil, last
		}
		wait := c.backoff(attempt)
		if retryAfter >= 0 {
			wait = retryAfter
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return nil, fmt.Errorf("%w; not retried: the next attempt is due in %v, after the context's deadline", last, wait.Round(time.Millisecond))
		}
		if err := c.o.sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("%w; stopped waiting to retry: %w", last, err)
		}
	}
}

// backoff is the wait before retry number attempt (1-based): doubling from
// the first wait up to the cap, plus up to 25% jitter so that many clients
// refused at once do not return at once.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.o.backoff
	for i := 1; i < attempt && d < c.o.maxBackoff; i++ {
		d *= 2
	}
	d = min(d, c.o.maxBackoff)
	if d > 0 {
		d += time.Duration(rand.Int64N(int64(d)/4 + 1))
	}
	return d
}

// post sends one request. retryAfter is -1 when the response has no usable
// Retry-After header. A network error is returned with the key redacted
// (the URL holds none, but a proxy's message might).
func (c *Client) post(ctx context.Context, body []byte) (status int, data []byte, retryAfter time.Duration, err error) {
	actx, cancel := context.WithTimeout(ctx, c.o.attemptTO)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return 0, nil, -1, fmt.Errorf("remote: building the request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if c.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.apiKey)
	} else if c.userinfo != nil {
		pw, _ := c.userinfo.Password()
		req.SetBasicAuth(c.userinfo.Username(), pw)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, -1, fmt.Errorf("remote: %s:%s at %s: %s", c.provider, c.model, c.host, c.redactKey(err.Error()))
	}
	defer resp.Body.Close()
	data, err = io.ReadAll(io.LimitReader(resp.Body, c.o.maxBody+1))
	if err != nil {
		return 0, nil, -1, fmt.Errorf("remote: %s:%s at %s: reading the response: %s", c.provider, c.model, c.host, c.redactKey(err.Error()))
	}
	if int64(len(data)) > c.o.maxBody {
		return 0, nil, -1, fmt.Errorf("%w: %s:%s at %s: the response exceeds %d bytes", ErrBadResponse, c.provider, c.model, c.host, c.o.maxBody)
	}
	return resp.StatusCode, data, parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()), nil
}

// parseRetryAfter reads the header's two forms (RFC 9110 10.2.3): seconds,
// or an HTTP date. It returns -1 for none or garbage, and caps the wait at
// ten minutes so that a wrong header cannot park the caller for a day.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return -1
	}
	const maxWait = 10 * time.Minute
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return -1
		}
		if n > int64(maxWait/time.Second) {
			return maxWait
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		return max(0, min(d, maxWait))
	}
	return -1
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// decode parses a 200 response and checks it: n vectors, all of length dim
// (or of one common length when dim is 0), finite, normalized if asked.
func (c *Client) decode(data []byte, n, dim int) ([][]float32, error) {
	var vs [][]float32
	var err error
	switch c.provider {
	case OpenAI:
		vs, err = decodeOpenAI(data, n)
	default:
		vs, err = decodeOllama(data, n)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s:%s at %s: %s", ErrBadResponse, c.provider, c.model, c.host, c.redactKey(err.Error()))
	}
	if dim == 0 {
		dim = len(vs[0]) // the probe: learn the length
	}
	for i, v := range vs {
		if len(v) != dim {
			return nil, fmt.Errorf("%w: %s:%s returned a vector of length %d for text %d, expected %d", ErrDimensionMismatch, c.provider, c.model, len(v), i, dim)
		}
		var ss float64
		for j, x := range v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return nil, fmt.Errorf("%w: %s:%s: vector %d has a non-finite value at %d", ErrBadResponse, c.provider, c.model, i, j)
			}
			ss += float64(x) * float64(x)
		}
		if ss == 0 {
			return nil, fmt.Errorf("%w: %s:%s: vector %d is all zeros", ErrBadResponse, c.provider, c.model, i)
		}
		if c.o.normalize {
			inv := 1 / math.Sqrt(ss)
			for j := range v {
				v[j] = float32(float64(v[j]) * inv)
			}
		}
	}
	return vs, nil
}
