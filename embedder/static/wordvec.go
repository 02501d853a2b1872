package static

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/vecbolt/vecbolt/embedder"
)

// WordFormat names a word-vector file format, as ReadWordVectors detects
// it from the file's content.
type WordFormat string

const (
	// FormatWord2VecText is word2vec's text format, which fastText's .vec
	// files share: a header line "count dim", then one line per word: the
	// word and dim decimal numbers, separated by spaces.
	FormatWord2VecText WordFormat = "word2vec-text"
	// FormatWord2VecBinary is word2vec's binary format: the header line
	// "count dim", then per word the word's bytes, a space and dim
	// little-endian float32 values (4×dim bytes), optionally followed by
	// a newline.
	FormatWord2VecBinary WordFormat = "word2vec-binary"
	// FormatGloVe is GloVe's text format: word2vec's text lines with no
	// header line; the dimension is the first line's count of numbers.
	FormatGloVe WordFormat = "glove"
)

// ErrWordVectors is wrapped by every error about a malformed word-vector
// file; the message names the line (text formats) or the byte offset
// (binary format, and the header) and what was wrong.
var ErrWordVectors = errors.New("embedder: malformed word-vector file")

// Limits that keep a malformed or hostile file from costing more than its
// size: no real model comes near them.
const (
	maxWordDim   = 1 << 16 // components per vector
	maxWordBytes = 1 << 16 // bytes in one word (binary format)
	maxWordLine  = 1 << 24 // bytes in one text line
	// maxWordValue bounds a component's magnitude (for a tokenizer model,
	// a weight times a component; see newStatic), far above any trained
	// vector's (they are of order 1), so that summing the vectors of any
	// text in float32 cannot overflow to Inf (and then NaN).
	maxWordValue = 1e15
)

// DefaultSIF is the smoothing constant a of SIF weights that WithSIF(0)
// selects: 1e-3, the value Arora, Liang and Ma ("A Simple but
// Tough-to-Beat Baseline for Sentence Embeddings", ICLR 2017) recommend
// (their results are stable for a in [1e-4, 1e-3]).
const DefaultSIF = 1e-3

// WithSIF weights each word of a word-vector model by a / (a + p(w)), the
// SIF weight of Arora et al. (see DefaultSIF; a ≤ 0 means DefaultSIF).
// p(w), the word's unigram probability, is not in the file, so it is
// estimated from the word's rank r (1-based, in file order: word2vec,
// GloVe and fastText all write words by decreasing frequency) with Zipf's
// law, p(r) = 1 / (r × H(N)), H(N) the N-th harmonic number, N the number
// of words. Frequent words ("the", "of") then weigh about 1% of rare ones.
// It is only meaningful for files sorted by frequency, which the loader
// cannot check. SIF's second step, removing the first principal component
// of a corpus's sentence vectors, needs a corpus and is not done. It
// enters the identity. For word vectors only; Load and New refuse it.
func WithSIF(a float64) Option {
	return func(c *staticConfig) {
		if a <= 0 || math.IsNaN(a) || math.IsInf(a, 0) {
			a = DefaultSIF
		}
		c.sif, c.sifSet = a, true
	}
}

// WithLowercase makes a word-vector model look words up in lower case
// only, ignoring the case of the file's own entries (by default a cased
// file is searched for the word as written first; see WordVectors). It
// enters the identity. For word vectors only; Load and New refuse it.
func WithLowercase(on bool) Option {
	return func(c *staticConfig) { c.lowercase = on }
}

// WordVectors is a static embedder over a table of word vectors (word2vec,
// GloVe or fastText .vec files; see ReadWordVectors for the formats).
//
// Embedding a text: split it into words, look each up, average the
// vectors of the words found (weighted by SIF weights under WithSIF), and
// scale to unit length (unless WithNormalize(false)). Words not in the
// file are skipped. The default is the plain mean, not measured against
// SIF here (no real word-vector file is at hand, and none can be
// fetched): it needs no assumption about the file, whereas SIF weights
// assume it is sorted by frequency, which the loader cannot check; and it
// is the method behind the published "averaged GloVe" figures
// (sentence-transformers' average_word_embeddings models, mean pooling),
// so results compare with those. The SIF paper reports gains from its
// weighting on textual-similarity tasks; WithSIF turns it on.
//
// Words: maximal runs of letters, marks and digits; each Han, Hiragana
// or Katakana character is a word of its own (those scripts do not space
// words). Runs joined by a single apostrophe (' or ’), hyphen or
// underscore form a compound ("don't", "state-of-the-art", "New_York"),
// looked up whole first and, if the file lacks it, part by part.
// Everything else (spaces, punctuation, symbols, emoji) separates words.
// The files' own tokenizers differ (GloVe's splits "don't" into "do" and
// "n't"; word2vec's keeps punctuation on words), so no rule matches them
// all; this one keeps every word character and tries the longer form
// first, which finds the entries all of them share.
//
// Case: a file none of whose words holds an upper-case letter (GloVe,
// most lower-cased corpora) is searched in lower case. A cased file
// (GoogleNews word2vec, fastText's crawl vectors) is searched for the
// word as written, then in lower case, so "Paris" gets its own vector and
// "THE" still finds "the". WithLowercase(true) searches lower case only.
//
// A text none of whose words is in the file gets the character n-gram
// vector of the Model doc, hashed into this table's non-zero rows: the
// same fallback as the built-in model's, so every text that is not blank
// gets a vector. WithFallback(false) returns ErrNoTokens instead.
// WithMaxTokens(n) pools only the first n words found.
//
// Memory: the vectors are one flat []float32 of words × dim values, plus
// a map from word to row.
//
// A WordVectors is immutable and safe for concurrent use.
type WordVectors struct {
	format    WordFormat
	dim       int
	rows      int
	words     map[string]int32
	emb       []float32 // rows × dim, row-major, in file order
	weights   []float32 // per row; nil means 1
	lowerOnly bool
	normalize bool
	maxTokens int
	fallback  bool
	dups      int
	id        embedder.Identity
	bufs      sync.Pool // *wordScratch
	fbOnce    sync.Once
	fbRows    []int32
}

// LoadWordVectors opens a word-vector file (see ReadWordVectors) by path.
// The identity's name is the file's base name without ".gz" and without a
// ".txt", ".vec" or ".bin" extension (WithName overrides it).
func LoadWordVectors(path string, opts ...Option) (*WordVectors, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("embedder: loading word vectors: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, fmt.Errorf("embedder: loading word vectors: %s is a directory", path)
	}
	var size int64
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	opts = append([]Option{WithName(wordVectorsName(path))}, opts...)
	m, err := readWordVectors(f, size, opts)
	if err != nil {
		return nil, fmt.Errorf("embedder: loading word vectors %s: %w", path, err)
	}
	return m, nil
}

func wordVectorsName(path string) string {
	name := strings.TrimSuffix(filepath.Base(path), ".gz")
	switch ext := filepath.Ext(name); ext {
	case ".txt", ".vec", ".bin":
		name = strings.TrimSuffix(name, ext)
	}
	if name == "" || name == "." {
		name = "word-vectors"
	}
	return name
}

// ReadWordVectors reads word vectors in any of the WordFormat formats,
// plain or gzip-compressed, telling them apart by content, not by name:
//
//   - gzip: the stream starts with gzip's magic bytes 1f 8b; the rest of
//     these rules apply to the decompressed content (and byte offsets in
//     errors count decompressed bytes). A UTF-8 byte order mark is skipped.
//   - A header: the first line is exactly two non-negative integers,
//     "count dim". Without one the file is GloVe, and its dimension is
//     the first line's count of numbers.
//   - Binary or text after a header: in a text file the bytes that
//     follow the first word's space, up to 4×dim of them or the end of
//     the line, are all characters of decimal numbers (digits, sign,
//     point, exponent, spaces, "nan"/"inf" letters), at least min(dim, 2)
//     numbers if the line ends within them; a binary file's float32 bytes
//     practically never are (a zero byte or a high byte in any of the
//     4×dim bytes gives it away, and a newline byte before two numbers'
//     worth of such characters does not pass for a line's end).
//
// Text lines split on spaces and tabs; "\r\n" endings, trailing spaces
// (fastText writes one) and blank lines are accepted. A line with more
// fields than dim+1 whose second field is not a number is a word holding
// spaces (GloVe's 840B file has some) and is kept.
//
// Errors (all wrap ErrWordVectors) name the line or byte offset and the
// fault: a wrong number of components, a component that is not a number,
// is NaN or ±Inf, overflows float32 or exceeds 1e15 in magnitude (no
// trained vector comes near; the bound keeps sums finite), a header count that the records
// do not match, a truncated binary record, an over-long word or line.
// A word that appears twice keeps its first vector (files are sorted by
// frequency, so the first is the better trained one); later ones are
// skipped and counted (Duplicates).
//
// The identity's hash is a SHA-256 over the (decompressed) content and
// the options that change vectors (WithLowercase, WithSIF,
// WithNormalize). Identity.Pooling is "mean", or "weighted-mean" with SIF.
func ReadWordVectors(r io.Reader, opts ...Option) (*WordVectors, error) {
	return readWordVectors(r, 0, opts)
}

// readWordVectors is ReadWordVectors with the stream's size, when known
// (0 otherwise), so that the table can be allocated once at its size.
func readWordVectors(r io.Reader, size int64, opts []Option) (*WordVectors, error) {
	var cfg staticConfig
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.weights != nil || cfg.mapping != nil {
		return nil, errors.New("embedder: weights and mapping options apply to New only; word vectors are weighted by WithSIF")
	}
	if cfg.maxTokens < 0 {
		return nil, fmt.Errorf("embedder: max tokens %d is negative", cfg.maxTokens)
	}
	if cfg.name == "" {
		cfg.name = "word-vectors"
	}
	br := bufio.NewReaderSize(r, 1<<16)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%w: gzip header: %v", ErrWordVectors, err)
		}
		defer zr.Close()
		r = zr
		size = 0 // the content's size is not the file's
	} else {
		r = br
	}
	content := sha256.New()
	wr := &wvReader{br: bufio.NewReaderSize(io.TeeReader(r, content), 1<<16), words: make(map[string]int32), size: size}
	if err := wr.read(); err != nil {
		return nil, err
	}
	if len(wr.emb) == 0 {
		return nil, fmt.Errorf("%w: the file holds no vectors", ErrWordVectors)
	}
	// Shed append's spare capacity when it is large: it can be a third of
	// a multi-gigabyte table.
	if cap(wr.emb)-len(wr.emb) > len(wr.emb)/8 {
		wr.emb = append([]float32(nil), wr.emb...)
	}
	return newWordVectors(wr, cfg, content)
}

func newWordVectors(wr *wvReader, cfg staticConfig, content hash.Hash) (*WordVectors, error) {
	rows := len(wr.emb) / wr.dim
	cased := false
	for w := range wr.words {
		if strings.IndexFunc(w, unicode.IsUpper) >= 0 {
			cased = true
			break
		}
	}
	m := &WordVectors{
		format:    wr.format,
		dim:       wr.dim,
		rows:      rows,
		words:     wr.words,
		emb:       wr.emb,
		lowerOnly: cfg.lowercase || !cased,
		normalize: cfg.normalize == nil || *cfg.normalize,
		maxTokens: cfg.maxTokens,
		fallback:  !cfg.noFallback,
		dups:      wr.dups,
	}
	pooling := "mean"
	h := sha256.New()
	h.Write([]byte("vecbolt-wordvec-v1\x00"))
	h.Write(content.Sum(nil))
	if cfg.lowercase {
		h.Write([]byte("lowercase"))
	}
	if cfg.sifSet {
		pooling = "weighted-mean"
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], math.Float64bits(cfg.sif))
		h.Write([]byte("sif"))
		h.Write(b[:])
		m.weights = sifWeights(rows, cfg.sif)
	}
	if m.normalize {
		h.Write([]byte("normalize"))
	}
	m.id = embedder.Identity{Name: cfg.name, Hash: hex.EncodeToString(h.Sum(nil)), Dim: wr.dim, Pooling: pooling}
	return m, nil
}

// sifWeights returns a / (a + p(r)) for ranks r = 1..n, p the Zipf
// estimate of WithSIF.
func sifWeights(n int, a float64) []float32 {
	var harmonic float64
	for r := n; r >= 1; r-- { // smallest terms first, for accuracy
		harmonic += 1 / float64(r)
	}
	w := make([]float32, n)
	for i := range w {
		p := 1 / (float64(i+1) * harmonic)
		w[i] = float32(a / (a + p))
	}
	return w
}

// wvReader parses one word-vector stream.
type wvReader struct {
	br     *bufio.Reader
	off    int64 // bytes consumed
	line   int   // lines consumed
	buf    []byte
	format WordFormat
	dim    int
	emb    []float32
	words  map[string]int32
	dups   int
	fields [][2]int
	size   int64 // the stream's size in bytes, 0 if unknown
}

// tableCap is the capacity to allocate for a header's count × dim values:
// all of them when the stream's known size can hold them at minBytes
// bytes a value (so a lying header costs at most a few times the file's
// size), else a bounded start that append grows.
func (r *wvReader) tableCap(count, minBytes int) int {
	n := count * r.dim
	if r.size > 0 && int64(n)*int64(minBytes) <= r.size {
		return n
	}
	return min(n, 1<<20)
}

func (r *wvReader) errLine(format string, args ...any) error {
	return fmt.Errorf("%w: line %d: %s", ErrWordVectors, r.line, fmt.Sprintf(format, args...))
}

func (r *wvReader) errOff(off int64, format string, args ...any) error {
	return fmt.Errorf("%w: byte offset %d: %s", ErrWordVectors, off, fmt.Sprintf(format, args...))
}

// readErr reports a read failure that is not the data's format (I/O,
// gzip corruption).
func (r *wvReader) readErr(err error) error {
	return fmt.Errorf("reading at byte offset %d: %w", r.off, err)
}

// readLine returns the next line without its "\n" or "\r\n", and io.EOF
// after the last. The slice is valid until the next call.
func (r *wvReader) readLine() ([]byte, error) {
	r.buf = r.buf[:0]
	for {
		chunk, err := r.br.ReadSlice('\n')
		r.off += int64(len(chunk))
		if err == bufio.ErrBufferFull {
			if len(r.buf)+len(chunk) > maxWordLine {
				r.line++
				return nil, r.errLine("longer than %d bytes", maxWordLine)
			}
			r.buf = append(r.buf, chunk...)
			continue
		}
		if err != nil && err != io.EOF {
			return nil, r.readErr(err)
		}
		if len(r.buf)+len(chunk) > maxWordLine {
			r.line++
			return nil, r.errLine("longer than %d bytes", maxWordLine)
		}
		line := chunk
		if len(r.buf) > 0 {
			r.buf = append(r.buf, chunk...)
			line = r.buf
		}
		if len(line) == 0 && err == io.EOF {
			return nil, io.EOF
		}
		r.line++
		line = bytes.TrimSuffix(line, []byte("\n"))
		line = bytes.TrimSuffix(line, []byte("\r"))
		return line, nil
	}
}

// split sets r.fields to the [start, end) spans of line's fields,
// separated by spaces and tabs only: words may hold other white space.
func (r *wvReader) split(line []byte) {
	r.fields = r.fields[:0]
	start := -1
	for i, c := range line {
		if c == ' ' || c == '\t' {
			if start >= 0 {
				r.fields = append(r.fields, [2]int{start, i})
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		r.fields = append(r.fields, [2]int{start, len(line)})
	}
}

func (r *wvReader) read() error {
	if bom, _ := r.br.Peek(3); bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		r.br.Discard(3)
		r.off = 3
	}
	var first []byte
	for {
		line, err := r.readLine()
		if err == io.EOF {
			return fmt.Errorf("%w: the file holds no vectors", ErrWordVectors)
		}
		if err != nil {
			return err
		}
		if len(bytes.TrimSpace(line)) > 0 {
			first = line
			break
		}
	}
	r.split(first)
	if count, dim, ok := parseHeader(first, r.fields); ok {
		if count < 1 || count > math.MaxInt32 || dim < 1 || dim > maxWordDim {
			return r.errLine("header \"%s\": want count in [1, %d] and dimension in [1, %d]", first, math.MaxInt32, maxWordDim)
		}
		r.dim = dim
		if looksBinary(r.br, dim) {
			r.format = FormatWord2VecBinary
			return r.readBinary(count)
		}
		r.format = FormatWord2VecText
		return r.readText(nil, count, "the header's")
	}
	r.format = FormatGloVe
	if len(r.fields) < 2 {
		return r.errLine("a word with no numbers (neither a \"count dim\" header nor a GloVe line)")
	}
	r.dim = len(r.fields) - 1
	if r.dim > maxWordDim {
		return r.errLine("%d components, more than %d", r.dim, maxWordDim)
	}
	err := r.readText(first, -1, "the first line's")
	if err != nil && r.line == 1 {
		// Any file that is not word vectors ends here; say what was tried.
		err = fmt.Errorf("%w (with no \"count dim\" header line, the file must be GloVe text: is it a word-vector file?)", err)
	}
	return err
}

// clip shortens a word or field quoted in an error message: a binary file
// read as text can make one line of a whole file.
func clip(b string) string {
	const n = 40
	if len(b) <= n {
		return b
	}
	i := n
	for i > 0 && !utf8.RuneStart(b[i]) {
		i--
	}
	return b[:i] + "…"
}

// parseHeader reports whether line is word2vec's header, "count dim".
func parseHeader(line []byte, fields [][2]int) (count, dim int, ok bool) {
	if len(fields) != 2 {
		return 0, 0, false
	}
	var v [2]int
	for i, f := range fields {
		s := line[f[0]:f[1]]
		for _, c := range s {
			if c < '0' || c > '9' {
				return 0, 0, false
			}
		}
		n, err := strconv.Atoi(string(s))
		if err != nil {
			n = math.MaxInt // all digits but too large: a header that is out of range
		}
		v[i] = n
	}
	return v[0], v[1], true
}

// looksBinary tells word2vec's binary format from its text format after
// the header, as ReadWordVectors describes.
func looksBinary(br *bufio.Reader, dim int) bool {
	p, _ := br.Peek(br.Size())
	i := 0
	for i < len(p) && (p[i] == '\n' || p[i] == '\r') {
		i++
	}
	sp := bytes.IndexByte(p[i:], ' ')
	if sp < 0 {
		return false // no whole word in view: the text parser will say what is wrong
	}
	j := i + sp + 1
	fields, inField := 0, false
	for _, c := range p[j:min(len(p), j+4*dim)] {
		if c == '\n' {
			// A text line ends here. A binary vector holds a newline
			// byte now and then (its first byte is one in 1/256 of
			// files): before it, a text line has numbers, two of them
			// if dim allows, which binary bytes almost never spell.
			return fields < min(dim, 2)
		}
		if !isNumberByte(c) {
			return true
		}
		sep := c == ' ' || c == '\t' || c == '\r'
		if !sep && !inField {
			fields++
		}
		inField = !sep
	}
	return false
}

func isNumberByte(c byte) bool {
	switch {
	case c >= '0' && c <= '9':
		return true
	case c >= 'a' && c <= 'z':
		c -= 'a' - 'A'
	}
	return strings.IndexByte("+-.E \t\rNAIFTY", c) >= 0
}

// readText parses text records. first, if not nil, is the first record's
// line (GloVe); count is the header's count, or -1.
func (r *wvReader) readText(first []byte, count int, dimFrom string) error {
	if count > 0 {
		r.emb = make([]float32, 0, r.tableCap(count, 2)) // a digit and a separator
	}
	records := 0
	line := first
	for {
		if line == nil {
			var err error
			line, err = r.readLine()
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
		}
		if len(bytes.TrimSpace(line)) == 0 {
			line = nil
			continue
		}
		if count >= 0 && records == count {
			return r.errLine("more vectors than the header's %d", count)
		}
		if err := r.textRecord(line, dimFrom); err != nil {
			return err
		}
		records++
		line = nil
	}
	if count >= 0 && records != count {
		return fmt.Errorf("%w: the file ends after %d vectors (line %d) but the header says %d: truncated?", ErrWordVectors, records, r.line, count)
	}
	return nil
}

func (r *wvReader) textRecord(line []byte, dimFrom string) error {
	r.split(line)
	k, dim := len(r.fields), r.dim
	if k < dim+1 {
		return r.errLine("%d numbers after the word, want %d (%s dimension)", k-1, dim, dimFrom)
	}
	wordEnd := k - dim // fields [0, wordEnd) are the word
	if wordEnd > 1 {
		f := r.fields[1]
		if _, err := strconv.ParseFloat(string(line[f[0]:f[1]]), 32); err == nil {
			return r.errLine("%d numbers after the word, want %d (%s dimension)", k-1, dim, dimFrom)
		}
	}
	// One string per line, not per number: the fields are substrings.
	ls := string(line)
	word := ls[r.fields[0][0]:r.fields[wordEnd-1][1]]
	for j, f := range r.fields[wordEnd:] {
		s := ls[f[0]:f[1]]
		v, err := strconv.ParseFloat(s, 32)
		switch {
		case errors.Is(err, strconv.ErrRange):
			return r.errLine("component %d of %q, %s, is outside float32's range", j+1, clip(word), clip(s))
		case err != nil:
			return r.errLine("component %d of %q, %q, is not a number", j+1, clip(word), clip(s))
		case math.IsNaN(v) || math.IsInf(v, 0):
			return r.errLine("component %d of %q is %v", j+1, clip(word), v)
		case math.Abs(v) > maxWordValue:
			return r.errLine("component %d of %q, %s, is implausibly large (more than %g in magnitude)", j+1, clip(word), clip(s), maxWordValue)
		}
		r.emb = append(r.emb, float32(v))
	}
	if _, dup := r.words[word]; dup {
		r.emb = r.emb[:len(r.emb)-dim]
		r.dups++
		return nil
	}
	if len(r.words) == math.MaxInt32 {
		return r.errLine("more than %d words", math.MaxInt32)
	}
	// A copy, so the map does not keep the whole line alive.
	r.words[strings.Clone(word)] = int32(len(r.emb)/dim - 1)
	return nil
}

func (r *wvReader) readBinary(count int) error {
	dim := r.dim
	r.emb = make([]float32, 0, r.tableCap(count, 4))
	vb := make([]byte, 4*dim)
	for i := range count {
		// Records may be separated by a newline (word2vec's C tool
		// writes one).
		for {
			c, err := r.br.ReadByte()
			if err == io.EOF {
				return r.errOff(r.off, "the file ends after %d vectors but the header says %d: truncated", i, count)
			}
			if err != nil {
				return r.readErr(err)
			}
			if c != '\n' && c != '\r' {
				r.br.UnreadByte()
				break
			}
			r.off++
		}
		start := r.off
		w, err := r.br.ReadSlice(' ')
		r.off += int64(len(w))
		switch {
		case err == bufio.ErrBufferFull:
			return r.errOff(start, "word of vector %d is longer than %d bytes (not a word2vec binary file?)", i+1, maxWordBytes)
		case err == io.EOF:
			return r.errOff(start, "the file ends inside the word of vector %d of %d: truncated", i+1, count)
		case err != nil:
			return r.readErr(err)
		}
		if len(w) == 1 {
			return r.errOff(start, "vector %d has an empty word", i+1)
		}
		word := string(w[:len(w)-1])
		vstart := r.off
		n, err := io.ReadFull(r.br, vb)
		r.off += int64(n)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return r.errOff(vstart, "vector %d (%q) needs %d bytes, the file ends after %d: truncated", i+1, clip(word), len(vb), n)
		} else if err != nil {
			return r.readErr(err)
		}
		for j := range dim {
			bits := binary.LittleEndian.Uint32(vb[4*j:])
			v := math.Float32frombits(bits)
			if bits&0x7f800000 == 0x7f800000 {
				return r.errOff(vstart+int64(4*j), "component %d of %q is %v", j+1, clip(word), v)
			}
			if math.Abs(float64(v)) > maxWordValue {
				return r.errOff(vstart+int64(4*j), "component %d of %q, %g, is implausibly large (more than %g in magnitude)", j+1, clip(word), v, maxWordValue)
			}
			r.emb = append(r.emb, v)
		}
		if _, dup := r.words[word]; dup {
			r.emb = r.emb[:len(r.emb)-dim]
			r.dups++
			continue
		}
		r.words[word] = int32(len(r.emb)/dim - 1)
	}
	// Only white space may follow; read it all, so the hash covers the
	// whole content.
	for {
		c, err := r.br.ReadByte()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return r.readErr(err)
		}
		if c != '\n' && c != '\r' && c != ' ' && c != '\t' {
			return r.errOff(r.off, "data after the %d vectors the header announces", count)
		}
		r.off++
	}
}

// Format returns the format the file was read in.
func (m *WordVectors) Format() WordFormat { return m.format }

// Dim returns the vector length.
func (m *WordVectors) Dim() int { return m.dim }

// Len returns the number of distinct words.
func (m *WordVectors) Len() int { return m.rows }

// Duplicates returns how many records repeated an earlier word and were
// skipped.
func (m *WordVectors) Duplicates() int { return m.dups }

// Vector returns a copy of word's vector as the file stores it (exact
// match, no case folding), and whether the file has the word.
func (m *WordVectors) Vector(word string) ([]float32, bool) {
	r, ok := m.words[word]
	if !ok {
		return nil, false
	}
	return append([]float32(nil), m.emb[int(r)*m.dim:int(r+1)*m.dim]...), true
}

// Identity describes the model.
func (m *WordVectors) Identity() embedder.Identity { return m.id }

// EmbedQuery embeds one search query.
func (m *WordVectors) EmbedQuery(ctx context.Context, text string) ([]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	v := make([]float32, m.dim)
	if err := m.embedInto(text, v); err != nil {
		return nil, err
	}
	return v, nil
}

// EmbedDocuments embeds texts in order. An error names the index of the
// text that caused it; no partial result is returned.
func (m *WordVectors) EmbedDocuments(ctx context.Context, texts []string) ([][]float32, error) {
	backing := make([]float32, len(texts)*m.dim)
	out := make([][]float32, len(texts))
	for i, t := range texts {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		v := backing[i*m.dim : (i+1)*m.dim : (i+1)*m.dim]
		if err := m.embedInto(t, v); err != nil {
			return nil, fmt.Errorf("embedder: text %d: %w", i, err)
		}
		out[i] = v
	}
	return out, nil
}

// Embed embeds one text into dst, which must have length Dim.
func (m *WordVectors) Embed(text string, dst []float32) error {
	if len(dst) != m.dim {
		return fmt.Errorf("embedder: destination has length %d, want %d", len(dst), m.dim)
	}
	return m.embedInto(text, dst)
}

// wordScratch is the pooled state of one embedding.
type wordScratch struct {
	lower []byte
	acc   []float32
}

func (m *WordVectors) embedInto(text string, dst []float32) error {
	if strings.TrimFunc(text, unicode.IsSpace) == "" {
		return embedder.ErrEmptyText
	}
	sc, _ := m.bufs.Get().(*wordScratch)
	if sc == nil {
		sc = &wordScratch{acc: make([]float32, m.dim)}
	}
	clear(sc.acc)
	n := 0
	add := func(row int32) bool {
		if m.maxTokens > 0 && n >= m.maxTokens {
			return false
		}
		n++
		w := float32(1)
		if m.weights != nil {
			w = m.weights[row]
		}
		for j, v := range m.emb[int(row)*m.dim : int(row+1)*m.dim] {
			sc.acc[j] += w * v
		}
		return true
	}
	eachWord(text, func(word string, parts []int) bool {
		if row, ok := m.lookup(word, sc); ok {
			return add(row)
		}
		// A compound the file lacks: its parts.
		start := 0
		for _, end := range parts {
			if row, ok := m.lookup(word[start:end], sc); ok && !add(row) {
				return false
			}
			start = end + utf8RuneLenAt(word, end)
		}
		return true
	})
	copy(dst, sc.acc)
	m.bufs.Put(sc)
	if n > 0 {
		if ss := sumSquares(dst); ss >= 1e-24 {
			scaleMean(dst, n, ss, m.normalize)
			return nil
		}
	}
	if !m.fallback {
		if n > 0 {
			return fmt.Errorf("%w (its word vectors sum to zero)", ErrNoTokens)
		}
		return ErrNoTokens
	}
	return hashedFallback(text, dst, m.emb, m.fallbackRows(), m.maxTokens, m.normalize)
}

func utf8RuneLenAt(s string, i int) int {
	if i >= len(s) {
		return 0
	}
	_, size := utf8.DecodeRuneInString(s[i:])
	return size
}

// lookup finds word's row: as written (cased files, unless WithLowercase),
// then in lower case.
func (m *WordVectors) lookup(word string, sc *wordScratch) (int32, bool) {
	if !m.lowerOnly {
		if r, ok := m.words[word]; ok {
			return r, true
		}
	}
	sc.lower = sc.lower[:0]
	for _, c := range word {
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			sc.lower = append(sc.lower, byte(c))
			continue
		}
		sc.lower = utf8.AppendRune(sc.lower, unicode.ToLower(c))
	}
	r, ok := m.words[string(sc.lower)] // no allocation: a map index conversion
	return r, ok
}

func (m *WordVectors) fallbackRows() []int32 {
	m.fbOnce.Do(func() {
		rows := make([]int32, 0, m.rows)
		for r := range m.rows {
			for _, v := range m.emb[r*m.dim : (r+1)*m.dim] {
				if v != 0 {
					rows = append(rows, int32(r))
					break
				}
			}
		}
		m.fbRows = rows
	})
	return m.fbRows
}

// isWordRune reports whether c belongs to a word (see WordVectors).
func isWordRune(c rune) bool {
	if c < utf8.RuneSelf {
		return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
	}
	return unicode.IsLetter(c) || unicode.IsDigit(c) || unicode.IsMark(c)
}

// isSingleRuneWord reports whether c is a word by itself: scripts that do
// not space words.
func isSingleRuneWord(c rune) bool {
	return c >= 0x2E80 && unicode.In(c, unicode.Han, unicode.Hiragana, unicode.Katakana) // no such script below U+2E80
}

func isJoiner(c rune) bool {
	return c == '\'' || c == '’' || c == '-' || c == '‐' || c == '_'
}

// eachWord calls f with each word of text (see WordVectors) and, for a
// compound, the byte offsets within it of its joiners (parts is nil for a
// simple word), until f returns false.
func eachWord(text string, f func(word string, parts []int) bool) {
	var joins [16]int
	for i := 0; i < len(text); {
		c, size := utf8.DecodeRuneInString(text[i:])
		if isSingleRuneWord(c) {
			if !f(text[i:i+size], nil) {
				return
			}
			i += size
			continue
		}
		if !isWordRune(c) {
			i += size
			continue
		}
		start := i
		parts := joins[:0]
		i += size
		for i < len(text) {
			c, size = utf8.DecodeRuneInString(text[i:])
			if isWordRune(c) && !isSingleRuneWord(c) {
				i += size
				continue
			}
			if isJoiner(c) && i+size < len(text) {
				if n, _ := utf8.DecodeRuneInString(text[i+size:]); isWordRune(n) && !isSingleRuneWord(n) {
					parts = append(parts, i-start)
					i += size
					continue
				}
			}
			break
		}
		var p []int
		if len(parts) > 0 {
			p = append(parts, i-start) // the last part ends at the word's end
		}
		if !f(text[start:i], p) {
			return
		}
	}
}
