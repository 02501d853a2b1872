package tokenizer

// The BERT WordPiece tokenizer, written here rather than taken from a
// library: github.com/daulet/tokenizers needs the Rust HF library (cgo, not
// buildable without a crates registry), and the pure-Go alternatives deviate
// from HF on control characters, non-Zs whitespace and Unicode version, which
// changes ids. This implementation follows HF tokenizers' BertNormalizer,
// BertPreTokenizer, WordPiece model and TemplateProcessing step by step; see
// ../shared/notes/tokenizer.md for the rules and tokenizer_test.go for the
// vectors it is held to.
//
// Pipeline for one text:
//  1. Split the raw text on added tokens that are matched literally
//     (normalized: false, e.g. "[CLS]", "[MASK]"); each match is one id.
//  2. Normalize the rest: drop NUL, U+FFFD (which includes invalid UTF-8)
//     and Cc/Cf/Co characters except \t \n \r; map whitespace to ' ';
//     surround CJK ideographs with spaces; NFD and drop Mn; lowercase.
//  3. Pre-tokenize: split on whitespace, isolate every punctuation character.
//  4. WordPiece each word: greedy longest match, "##" continuations, a word
//     that cannot be covered (or is longer than 100 characters) is one [UNK].
//  5. Truncate and wrap in the post-processor template ([CLS] A [SEP] ...).
//
// Every normalized character remembers the byte range of the original
// character it came from, so token offsets point into the caller's text.
//
// Plain printable ASCII (the bulk of English text) takes a fast path that
// skips normalization and allocates nothing. Text is cut into chunks at
// ASCII whitespace, which separates words on both paths, and only chunks
// holding another byte take the general path.
//
// Package-level tables (asciiClassTable, the hf* range tables) are computed
// once and never written: they are constants Go cannot spell as such.

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"unicode"
	"unicode/utf8"
)

// ErrInvalid is wrapped by every error about a malformed tokenizer
// definition: a bad tokenizer.json, vocabulary or option value.
var ErrInvalid = errors.New("embedder: invalid tokenizer")

// ErrUnsupported is wrapped when a tokenizer.json uses a component
// (normalizer, pre-tokenizer, model, post-processor or option) that this
// tokenizer does not implement. The error message names the component.
var ErrUnsupported = errors.New("embedder: unsupported tokenizer component")

// defaultMaxLength is BERT's number of position embeddings.
const defaultMaxLength = 512

// Tokenizer is a BERT-style WordPiece tokenizer that reproduces Hugging Face
// tokenizers' ids. It is immutable after construction and safe for
// concurrent use.
type Tokenizer struct {
	vocab []string // id -> token, including added tokens
	// start maps word-initial pieces, cont maps continuation pieces keyed
	// WITHOUT their prefix, so lookups never build "##"+piece strings.
	start, cont         map[string]int32
	maxStart, maxCont   int // longest key in bytes, bounds the greedy search
	prefix              string
	unk                 int32
	unkToken            string
	maxWordChars        int
	maxLength           int
	cleanText           bool
	chineseChars        bool
	stripAccents        bool
	lowercase           bool
	cls, sep, pad, mask int32

	added       []addedToken // raw-text matched, longest first
	addedFirst  [256]bool    // first bytes of raw-matched added tokens
	normAdded   []addedToken // matched in normalized text
	single      []tmplItem
	pair        []tmplItem
	nSingle     int // special ids the single template adds
	nPair       int // special ids the pair template adds
	procKind    string
	specialToks map[string][]int32 // template special tokens, for MarshalJSON

	scratch sync.Pool // *scratch, for the general (non-ASCII) path
	// chunk overrides normChunk when positive; tests vary it to show that
	// where the general path cuts a text does not change its tokens.
	chunk int
}

// addedToken is an entry of tokenizer.json's "added_tokens" (or a BERT
// special token for NewWordPiece).
type addedToken struct {
	content    string
	id         int32
	singleWord bool
	lstrip     bool
	rstrip     bool
	normalized bool
	special    bool
	// match is what is searched for: content, or for normalized tokens the
	// normalized form of content.
	match []rune
}

// tmplItem is one element of a post-processor template: either a run of
// special ids or a placeholder for sequence A or B.
type tmplItem struct {
	ids    []int32 // special token ids; nil for a sequence placeholder
	name   string  // special token name, or "A"/"B"
	typeID int32
}

// Encoding is the result of encoding one text or one pair of texts.
type Encoding struct {
	// IDs are the token ids, specials included when requested.
	IDs []int32
	// TypeIDs are the segment ids: 0 for the first text and its specials,
	// 1 for the second text of a pair and its trailing [SEP].
	TypeIDs []int32
	// Offsets are byte ranges [start, end) of each token in the text it
	// came from (for a pair, tokens with type id 1 index into the second
	// text). Special tokens added by the template have [0, 0].
	Offsets [][2]int
	// Truncated is the number of tokens dropped by truncation.
	Truncated int
}

// Option configures NewWordPiece, Load and
// Parse. Options override what a tokenizer.json declares.
type Option func(*tokenizerConfig)

type tokenizerConfig struct {
	maxLength     *int
	lowercase     *bool
	stripAccents  *bool
	cleanText     *bool
	chineseChars  *bool
	unkToken      *string
	prefix        *string
	maxWordChars  *int
	specialTokens *bool
}

// WithMaxLength sets the maximum number of tokens Encode and EncodePair
// return, counting the [CLS]/[SEP] the template adds when specials are
// requested. Longer inputs are truncated from the right. 0 disables
// truncation. The default is 512 (BERT's position limit); sentence-
// transformers' all-MiniLM-L6-v2 uses 256.
func WithMaxLength(n int) Option {
	return func(c *tokenizerConfig) { c.maxLength = &n }
}

// WithLowercase sets whether text is lowercased (uncased models: true).
func WithLowercase(on bool) Option {
	return func(c *tokenizerConfig) { c.lowercase = &on }
}

// WithStripAccents sets whether accents are removed (NFD, then drop
// nonspacing marks). Unset, it follows the lowercase setting, as in HF.
func WithStripAccents(on bool) Option {
	return func(c *tokenizerConfig) { c.stripAccents = &on }
}

// WithCleanText sets whether control characters are removed and whitespace
// mapped to plain spaces (default true).
func WithCleanText(on bool) Option {
	return func(c *tokenizerConfig) { c.cleanText = &on }
}

// WithChineseChars sets whether CJK ideographs become words of their own
// (default true).
func WithChineseChars(on bool) Option {
	return func(c *tokenizerConfig) { c.chineseChars = &on }
}

// WithUnknownToken sets the token used for words the vocabulary cannot
// cover (default "[UNK]"); it must be in the vocabulary.
func WithUnknownToken(tok string) Option {
	return func(c *tokenizerConfig) { c.unkToken = &tok }
}

// WithContinuingSubwordPrefix sets the prefix of non-initial word pieces
// (default "##").
func WithContinuingSubwordPrefix(p string) Option {
	return func(c *tokenizerConfig) { c.prefix = &p }
}

// WithMaxInputCharsPerWord sets the length in characters above which a word
// becomes [UNK] without being split (default 100).
func WithMaxInputCharsPerWord(n int) Option {
	return func(c *tokenizerConfig) { c.maxWordChars = &n }
}

// WithSpecialTokens sets whether NewWordPiece treats [PAD], [UNK], [CLS],
// [SEP] and [MASK] found in the vocabulary as added tokens matched literally
// in the raw text, as HF's BertTokenizerFast does (default true).
func WithSpecialTokens(on bool) Option {
	return func(c *tokenizerConfig) { c.specialTokens = &on }
}

// bertSettings is the resolved normalizer/model configuration.
type bertSettings struct {
	lowercase, cleanText, chineseChars bool
	stripAccents                       *bool
	unkToken, prefix                   string
	maxWordChars, maxLength            int
}

func defaultBertSettings() bertSettings {
	return bertSettings{
		lowercase: true, cleanText: true, chineseChars: true,
		unkToken: "[UNK]", prefix: "##", maxWordChars: 100, maxLength: defaultMaxLength,
	}
}

func (s *bertSettings) apply(c *tokenizerConfig) error {
	if c.lowercase != nil {
		s.lowercase = *c.lowercase
	}
	if c.stripAccents != nil {
		v := *c.stripAccents
		s.stripAccents = &v
	}
	if c.cleanText != nil {
		s.cleanText = *c.cleanText
	}
	if c.chineseChars != nil {
		s.chineseChars = *c.chineseChars
	}
	if c.unkToken != nil {
		s.unkToken = *c.unkToken
	}
	if c.prefix != nil {
		s.prefix = *c.prefix
	}
	if c.maxWordChars != nil {
		if *c.maxWordChars <= 0 {
			return fmt.Errorf("%w: max input chars per word %d must be positive", ErrInvalid, *c.maxWordChars)
		}
		s.maxWordChars = *c.maxWordChars
	}
	if c.maxLength != nil {
		if *c.maxLength < 0 {
			return fmt.Errorf("%w: max length %d is negative", ErrInvalid, *c.maxLength)
		}
		s.maxLength = *c.maxLength
	}
	return nil
}

// NewWordPiece builds a BERT tokenizer (BertNormalizer, BertPreTokenizer,
// WordPiece, [CLS] A [SEP] template) from a vocabulary whose index is the
// token id, such as the lines of a vocab.txt. [UNK] must be present; the
// template adds [CLS]/[SEP] only if both are in the vocabulary.
func NewWordPiece(vocab []string, opts ...Option) (*Tokenizer, error) {
	var cfg tokenizerConfig
	for _, o := range opts {
		o(&cfg)
	}
	s := defaultBertSettings()
	if err := s.apply(&cfg); err != nil {
		return nil, err
	}
	t, err := newTokenizer(vocab, s)
	if err != nil {
		return nil, err
	}
	if cfg.specialTokens == nil || *cfg.specialTokens {
		var added []addedToken
		for _, name := range []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"} {
			if id, ok := t.start[name]; ok {
				added = append(added, addedToken{content: name, id: id, special: true})
			}
		}
		if err := t.setAdded(added); err != nil {
			return nil, err
		}
	}
	if t.cls >= 0 && t.sep >= 0 {
		t.procKind = "TemplateProcessing"
		t.specialToks = map[string][]int32{"[CLS]": {t.cls}, "[SEP]": {t.sep}}
		t.single = []tmplItem{{ids: []int32{t.cls}, name: "[CLS]"}, {name: "A"}, {ids: []int32{t.sep}, name: "[SEP]"}}
		t.pair = []tmplItem{{ids: []int32{t.cls}, name: "[CLS]"}, {name: "A"}, {ids: []int32{t.sep}, name: "[SEP]"},
			{name: "B", typeID: 1}, {ids: []int32{t.sep}, name: "[SEP]", typeID: 1}}
	}
	if err := t.finish(); err != nil {
		return nil, err
	}
	return t, nil
}

// newTokenizer sets up the vocabulary and the model/normalizer settings;
// the caller adds added tokens and the template, then calls finish.
func newTokenizer(vocab []string, s bertSettings) (*Tokenizer, error) {
	if len(vocab) == 0 {
		return nil, fmt.Errorf("%w: empty vocabulary", ErrInvalid)
	}
	if len(vocab) > 1<<31-1 {
		return nil, fmt.Errorf("%w: vocabulary of %d tokens is too large", ErrInvalid, len(vocab))
	}
	t := &Tokenizer{
		vocab:        append([]string(nil), vocab...),
		start:        make(map[string]int32, len(vocab)),
		cont:         make(map[string]int32, len(vocab)/4),
		prefix:       s.prefix,
		unkToken:     s.unkToken,
		maxWordChars: s.maxWordChars,
		maxLength:    s.maxLength,
		cleanText:    s.cleanText,
		chineseChars: s.chineseChars,
		lowercase:    s.lowercase,
		cls:          -1, sep: -1, pad: -1, mask: -1,
	}
	t.stripAccents = s.lowercase
	if s.stripAccents != nil {
		t.stripAccents = *s.stripAccents
	}
	for i, tok := range vocab {
		// HF would silently keep the last id of a duplicated token, making
		// the other id unreachable; a tokenizer.json cannot even express it.
		if prev, dup := t.start[tok]; dup {
			return nil, fmt.Errorf("%w: token %q appears at ids %d and %d", ErrInvalid, tok, prev, i)
		}
		t.start[tok] = int32(i)
		if len(tok) > t.maxStart {
			t.maxStart = len(tok)
		}
		if s.prefix != "" && len(tok) > len(s.prefix) && tok[:len(s.prefix)] == s.prefix {
			rest := tok[len(s.prefix):]
			t.cont[rest] = int32(i)
			if len(rest) > t.maxCont {
				t.maxCont = len(rest)
			}
		}
	}
	if s.prefix == "" {
		t.cont, t.maxCont = t.start, t.maxStart
	}
	unk, ok := t.start[s.unkToken]
	if !ok {
		return nil, fmt.Errorf("%w: unknown token %q is not in the vocabulary", ErrInvalid, s.unkToken)
	}
	t.unk = unk
	for name, dst := range map[string]*int32{"[CLS]": &t.cls, "[SEP]": &t.sep, "[PAD]": &t.pad, "[MASK]": &t.mask} {
		if id, ok := t.start[name]; ok {
			*dst = id
		}
	}
	t.scratch.New = func() any { return new(scratch) }
	return t, nil
}

// setAdded installs the added tokens, splitting them into those matched in
// the raw text and those matched after normalization.
func (t *Tokenizer) setAdded(added []addedToken) error {
	t.added, t.normAdded = nil, nil
	t.addedFirst = [256]bool{}
	for _, a := range added {
		if a.content == "" {
			return fmt.Errorf("%w: added token %d has empty content", ErrInvalid, a.id)
		}
		if a.id < 0 || int(a.id) >= len(t.vocab) {
			return fmt.Errorf("%w: added token %q has id %d outside the vocabulary of %d", ErrInvalid, a.content, a.id, len(t.vocab))
		}
		if a.normalized {
			a.match = []rune(t.normalizeString(a.content))
			if len(a.match) == 0 {
				continue // normalizes to nothing; HF can never match it either
			}
			t.normAdded = append(t.normAdded, a)
			continue
		}
		a.match = []rune(a.content)
		t.added = append(t.added, a)
		t.addedFirst[a.content[0]] = true
	}
	// Leftmost-longest matching: at one position the longest token wins.
	sort.SliceStable(t.added, func(i, j int) bool { return len(t.added[i].content) > len(t.added[j].content) })
	sort.SliceStable(t.normAdded, func(i, j int) bool { return len(t.normAdded[i].match) > len(t.normAdded[j].match) })
	return nil
}

// finish validates cross-field settings after the template is known.
func (t *Tokenizer) finish() error {
	t.nSingle, t.nPair = 0, 0
	for _, it := range t.single {
		t.nSingle += len(it.ids)
	}
	for _, it := range t.pair {
		t.nPair += len(it.ids)
	}
	if t.maxLength > 0 && t.maxLength < t.nSingle {
		return fmt.Errorf("%w: max length %d cannot hold the %d special tokens of a single sequence", ErrInvalid, t.maxLength, t.nSingle)
	}
	return nil
}

// VocabSize returns the number of token ids, added tokens included.
func (t *Tokenizer) VocabSize() int { return len(t.vocab) }

// TokenID returns the id of a token (continuation pieces with their "##").
func (t *Tokenizer) TokenID(token string) (int32, bool) {
	id, ok := t.start[token]
	return id, ok
}

// Token returns the token of an id, or "" for an id out of range.
func (t *Tokenizer) Token(id int32) string {
	if id < 0 || int(id) >= len(t.vocab) {
		return ""
	}
	return t.vocab[id]
}

// SpecialIDs returns the ids of [CLS], [SEP], [PAD] and the unknown token;
// -1 for any of the first three the vocabulary lacks.
func (t *Tokenizer) SpecialIDs() (cls, sep, pad, unk int32) {
	return t.cls, t.sep, t.pad, t.unk
}

// MaxLength returns the truncation length (0: no truncation).
func (t *Tokenizer) MaxLength() int { return t.maxLength }

// Vocab returns a copy of the vocabulary, indexed by id.
func (t *Tokenizer) Vocab() []string { return append([]string(nil), t.vocab...) }

// Encode tokenizes one text. With addSpecial the post-processor template
// ([CLS] text [SEP] for BERT) wraps the tokens. The result is truncated to
// MaxLength tokens, specials included.
func (t *Tokenizer) Encode(text string, addSpecial bool) Encoding {
	// Specials before and after the sequence are written around the
	// tokens in place, so an Encode costs three allocations when the size
	// estimate (about 4 bytes of English per token) holds.
	var pre, post []tmplItem
	seqType := int32(0)
	for i, it := range t.single {
		if it.ids == nil {
			pre, post, seqType = t.single[:i], t.single[i+1:], it.typeID
			break
		}
	}
	if !addSpecial {
		pre, post = nil, nil
	}
	nSpecial := 0
	if addSpecial {
		nSpecial = t.nSingle
	}
	est := len(text)/4 + nSpecial + 2
	if t.maxLength > 0 && est > t.maxLength {
		est = t.maxLength + 1
	}
	s := sink{ids: make([]int32, 0, est), offs: make([][2]int, 0, est), offsets: true}
	for _, it := range pre {
		for _, id := range it.ids {
			s.emit(id, 0, 0)
		}
	}
	mark := len(s.ids)
	t.tokenize(&s, text)
	var enc Encoding
	if t.maxLength > 0 {
		budget := max(t.maxLength-nSpecial, 0)
		if n := len(s.ids) - mark; n > budget {
			enc.Truncated = n - budget
			s.ids, s.offs = s.ids[:mark+budget], s.offs[:mark+budget]
		}
	}
	seqEnd := len(s.ids)
	for _, it := range post {
		for _, id := range it.ids {
			s.emit(id, 0, 0)
		}
	}
	enc.IDs, enc.Offsets = s.ids, s.offs
	enc.TypeIDs = make([]int32, len(s.ids))
	k := 0
	for _, it := range pre {
		for range it.ids {
			enc.TypeIDs[k] = it.typeID
			k++
		}
	}
	for ; k < seqEnd; k++ {
		enc.TypeIDs[k] = seqType
	}
	for _, it := range post {
		for range it.ids {
			enc.TypeIDs[k] = it.typeID
			k++
		}
	}
	return enc
}

// EncodePair tokenizes a pair of texts (e.g. query and passage for a
// cross-encoder). With addSpecial the pair template wraps them
// ([CLS] a [SEP] b [SEP] for BERT, b's part with type id 1). Truncation
// follows HF's "longest_first" strategy.
func (t *Tokenizer) EncodePair(a, b string, addSpecial bool) Encoding {
	var sa, sb sink
	sa.offsets, sb.offsets = true, true
	t.tokenize(&sa, a)
	t.tokenize(&sb, b)
	var enc Encoding
	if t.maxLength > 0 {
		budget := t.maxLength
		if addSpecial {
			budget -= t.nPair
		}
		if budget < 0 {
			budget = 0
		}
		na, nb := longestFirst(len(sa.ids), len(sb.ids), budget)
		enc.Truncated = len(sa.ids) - na + len(sb.ids) - nb
		sa.ids, sa.offs = sa.ids[:na], sa.offs[:na]
		sb.ids, sb.offs = sb.ids[:nb], sb.offs[:nb]
	}
	tmpl := t.pair
	if !addSpecial || len(tmpl) == 0 {
		tmpl = t.pairWithoutSpecials()
	}
	t.applyTemplate(&enc, tmpl, &sa, &sb)
	return enc
}

// pairWithoutSpecials is the template HF applies to a pair encoded without
// special tokens: TemplateProcessing keeps its sequences' type ids; other
// post-processors (BertProcessing, none) leave every type id at 0.
func (t *Tokenizer) pairWithoutSpecials() []tmplItem {
	if t.procKind == "TemplateProcessing" {
		var seqs []tmplItem
		for _, it := range t.pair {
			if it.ids == nil {
				seqs = append(seqs, it)
			}
		}
		if len(seqs) == 2 {
			return seqs
		}
	}
	return []tmplItem{{name: "A"}, {name: "B"}}
}

// longestFirst returns how many tokens of each sequence survive HF's
// longest_first truncation to limit tokens, as tokenizers' truncate_encodings
// computes it: the shorter sequence keeps its length if the longer one can
// take the rest; otherwise both get limit/2 and the longer one (the second
// when equal) the odd token.
func longestFirst(n1, n2, limit int) (int, int) {
	if n1+n2 <= limit {
		return n1, n2
	}
	swap := false
	if n1 > n2 {
		swap = true
		n1, n2 = n2, n1
	}
	if n1 > limit {
		n2 = n1
	} else {
		n2 = max(n1, limit-n1)
	}
	if n1+n2 > limit {
		n1 = limit / 2
		n2 = n1 + limit%2
	}
	if swap {
		n1, n2 = n2, n1
	}
	return n1, n2
}

func (t *Tokenizer) applyTemplate(enc *Encoding, tmpl []tmplItem, a, b *sink) {
	n := 0
	for _, it := range tmpl {
		switch {
		case it.ids != nil:
			n += len(it.ids)
		case it.name == "A":
			n += len(a.ids)
		case b != nil:
			n += len(b.ids)
		}
	}
	enc.IDs = make([]int32, 0, n)
	enc.TypeIDs = make([]int32, 0, n)
	enc.Offsets = make([][2]int, 0, n)
	for _, it := range tmpl {
		var src *sink
		switch {
		case it.ids != nil:
			for _, id := range it.ids {
				enc.IDs = append(enc.IDs, id)
				enc.TypeIDs = append(enc.TypeIDs, it.typeID)
				enc.Offsets = append(enc.Offsets, [2]int{})
			}
			continue
		case it.name == "A":
			src = a
		default:
			src = b
		}
		if src == nil {
			continue
		}
		enc.IDs = append(enc.IDs, src.ids...)
		enc.Offsets = append(enc.Offsets, src.offs...)
		for range src.ids {
			enc.TypeIDs = append(enc.TypeIDs, it.typeID)
		}
	}
}

// AppendIDs appends the token ids of text to dst: no specials, no offsets,
// no truncation. It is the fast path for static embedders and allocates
// nothing for ASCII text when dst has room.
func (t *Tokenizer) AppendIDs(dst []int32, text string) []int32 {
	s := sink{ids: dst}
	t.tokenize(&s, text)
	return s.ids
}

// EachIDs calls f with the token ids of text, in order, as AppendIDs would
// return them, in runs of a few thousand: its memory is bounded by the run,
// where AppendIDs holds an id for every token of the text (4 bytes per
// byte of a text of punctuation). buf is scratch space for the runs (nil
// is fine); EachIDs returns it, possibly grown, for reuse. f must not keep
// the slice it is given.
func (t *Tokenizer) EachIDs(text string, buf []int32, f func(ids []int32)) []int32 {
	return t.EachIDsTo(text, buf, funcConsumer(f))
}

// IDConsumer takes the runs of ids of EachIDsTo. Static models pool
// through one without allocating: a func stored in the tokenizer's sink
// escapes to the heap, a pointer already there does not.
type IDConsumer interface {
	// ConsumeIDs takes one run of ids; it must not keep the slice.
	ConsumeIDs(ids []int32)
}

type funcConsumer func([]int32)

func (f funcConsumer) ConsumeIDs(ids []int32) { f(ids) }

// EachIDsTo is EachIDs handing the runs to c, which, unlike a func, need
// not allocate per call.
func (t *Tokenizer) EachIDsTo(text string, buf []int32, c IDConsumer) []int32 {
	s := sink{ids: buf[:0], drain: c}
	t.tokenize(&s, text)
	if len(s.ids) > 0 {
		c.ConsumeIDs(s.ids)
	}
	return s.ids[:0]
}

// drainRun is how many ids EachIDs collects before handing them over.
const drainRun = 4096

// sink collects tokens, with offsets only when asked. With drain set it
// hands its ids over whenever it holds drainRun of them between words.
type sink struct {
	ids     []int32
	offs    [][2]int
	offsets bool
	drain   IDConsumer
}

// drainIfFull hands the ids over to drain when there are enough of them.
// It is called only between words, never while wordPiece may still take
// back the pieces of the word it is splitting.
func (s *sink) drainIfFull() {
	if s.drain != nil && len(s.ids) >= drainRun {
		s.drain.ConsumeIDs(s.ids)
		s.ids = s.ids[:0]
	}
}

func (s *sink) emit(id int32, start, end int) {
	s.ids = append(s.ids, id)
	if s.offsets {
		s.offs = append(s.offs, [2]int{start, end})
	}
}

// tokenize splits text on raw-matched added tokens and tokenizes the rest.
func (t *Tokenizer) tokenize(s *sink, text string) {
	if len(t.added) == 0 {
		t.segment(s, text, 0, len(text))
		return
	}
	pos := 0
	for i := 0; i < len(text); {
		if !t.addedFirst[text[i]] {
			i++
			continue
		}
		a, ms, me, ok := t.matchAdded(text, i)
		if !ok {
			i++
			continue
		}
		if ms > pos {
			t.segment(s, text, pos, ms)
		}
		s.drainIfFull()
		s.emit(a.id, ms, me)
		pos, i = me, me
	}
	if pos < len(text) {
		t.segment(s, text, pos, len(text))
	}
}

// matchAdded tries the raw-matched added tokens at byte i and returns the
// longest that matches, with its span widened by lstrip/rstrip.
func (t *Tokenizer) matchAdded(text string, i int) (*addedToken, int, int, bool) {
	for k := range t.added {
		a := &t.added[k]
		c := a.content
		if len(text)-i < len(c) || text[i:i+len(c)] != c {
			continue
		}
		ms, me := i, i+len(c)
		if a.singleWord {
			if r, _ := utf8.DecodeLastRuneInString(text[:ms]); ms > 0 && isWordRune(r) {
				continue
			}
			if r, _ := utf8.DecodeRuneInString(text[me:]); me < len(text) && isWordRune(r) {
				continue
			}
		}
		if a.lstrip {
			for ms > 0 {
				r, n := utf8.DecodeLastRuneInString(text[:ms])
				if !unicode.Is(unicode.White_Space, r) {
					break
				}
				ms -= n
			}
		}
		if a.rstrip {
			for me < len(text) {
				r, n := utf8.DecodeRuneInString(text[me:])
				if !unicode.Is(unicode.White_Space, r) {
					break
				}
				me += n
			}
		}
		return a, ms, me, true
	}
	return nil, 0, 0, false
}

// isWordRune approximates regex \w, which HF uses for single_word tokens:
// letters, marks, decimal digits, connector punctuation, joiners.
func isWordRune(r rune) bool {
	if r < 0x80 {
		return r == '_' || asciiClassTable[r] == acWord && r > ' '
	}
	return unicode.IsLetter(r) || unicode.IsMark(r) || unicode.In(r, unicode.Nd, unicode.Nl, unicode.Pc) || r == 0x200C || r == 0x200D
}

// segment tokenizes text[from:to], which holds no raw-matched added token.
// ASCII whitespace always separates words, so the text is cut at it into
// chunks: chunks of plain ASCII take the fast path, the others the general
// one. One accented word thus does not slow down a whole document.
func (t *Tokenizer) segment(s *sink, text string, from, to int) {
	if len(t.normAdded) > 0 {
		// A normalized added token may span whitespace: normalize it all.
		t.segmentSlow(s, text, from, to)
		return
	}
	for from < to {
		k := from
		for k < to && (text[k] < 0x80 && asciiClassTable[text[k]] != acOther) {
			k++
		}
		if k == to {
			t.segmentASCII(s, text, from, to)
			return
		}
		cs := k
		for cs > from && asciiClassTable[text[cs-1]] != acSpace {
			cs--
		}
		if cs > from {
			t.segmentASCII(s, text, from, cs)
		}
		ce := k + 1
		for ce < to && !(text[ce] < 0x80 && asciiClassTable[text[ce]] == acSpace) {
			ce++
		}
		t.segmentSlow(s, text, cs, ce)
		from = ce
	}
}

func (t *Tokenizer) segmentSlow(s *sink, text string, from, to int) {
	sc := t.scratch.Get().(*scratch)
	t.segmentGeneral(s, sc, text, from, to)
	sc.reset()
	t.scratch.Put(sc)
}

// asciiClass classifies ASCII bytes for the fast path.
const (
	acWord  = 0
	acSpace = 1
	acPunct = 2
	acOther = 3 // control characters: force the general path
)

var asciiClassTable = func() (c [128]uint8) {
	for b := 0; b < 128; b++ {
		switch {
		case b == ' ' || b == '\t' || b == '\n' || b == '\r':
			c[b] = acSpace
		case b < 0x20 || b == 0x7f:
			c[b] = acOther
		case (b >= '!' && b <= '/') || (b >= ':' && b <= '@') || (b >= '[' && b <= '`') || (b >= '{' && b <= '~'):
			c[b] = acPunct
		}
	}
	return c
}()

// isPlainASCII reports whether s is printable ASCII plus \t \n \r, the
// inputs on which normalization changes nothing but case.
func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b >= 0x80 || asciiClassTable[b] == acOther {
			return false
		}
	}
	return true
}

// segmentASCII is the fast path: every byte is a character and maps to
// itself, so offsets are byte positions and words need no normalization
// beyond lowercasing into a stack buffer.
func (t *Tokenizer) segmentASCII(s *sink, text string, from, to int) {
	var buf [128]byte
	i := from
	for i < to {
		b := text[i]
		switch asciiClassTable[b] {
		case acSpace:
			i++
			continue
		case acPunct:
			buf[0] = b
			t.wordPiece(s, buf[:1], nil, i)
			i++
			continue
		}
		j := i
		for j < to && asciiClassTable[text[j]] == acWord {
			j++
		}
		if j-i > t.maxWordChars {
			s.drainIfFull()
			s.emit(t.unk, i, j)
			i = j
			continue
		}
		w := buf[:]
		if j-i > len(w) {
			w = make([]byte, j-i) // only with a raised word-length limit
		}
		w = w[:j-i]
		copy(w, text[i:j])
		if t.lowercase {
			for k, c := range w {
				if c >= 'A' && c <= 'Z' {
					w[k] = c + 'a' - 'A'
				}
			}
		}
		t.wordPiece(s, w, nil, i)
		i = j
	}
}

// wordPiece splits one normalized word w into pieces. orig, when not nil,
// gives for every byte of w the original byte range of its character;
// otherwise w[k] came from text byte base+k (the ASCII path).
func (t *Tokenizer) wordPiece(s *sink, w []byte, orig [][2]int, base int) {
	if len(w) == 0 {
		return
	}
	s.drainIfFull()
	off := func(ps, pe int) (int, int) {
		if orig == nil {
			return base + ps, base + pe
		}
		return orig[ps][0], orig[pe-1][1]
	}
	if orig != nil && utf8.RuneCount(w) > t.maxWordChars {
		a, b := off(0, len(w))
		s.emit(t.unk, a, b)
		return
	}
	mark := len(s.ids)
	for st := 0; st < len(w); {
		m, lim := t.start, t.maxStart
		if st > 0 {
			m, lim = t.cont, t.maxCont
		}
		e := len(w)
		if e-st > lim {
			e = st + lim
			for e > st && !utf8.RuneStart(w[e]) {
				e--
			}
		}
		found := false
		for e > st {
			if id, ok := m[string(w[st:e])]; ok {
				a, b := off(st, e)
				s.emit(id, a, b)
				found = true
				break
			}
			e--
			for e > st && !utf8.RuneStart(w[e]) {
				e--
			}
		}
		if !found {
			s.ids = s.ids[:mark]
			if s.offsets {
				s.offs = s.offs[:mark]
			}
			a, b := off(0, len(w))
			s.emit(t.unk, a, b)
			return
		}
		st = e
	}
}
