package tokenizer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// Load reads a Hugging Face tokenizer.json (BertNormalizer,
// BertPreTokenizer, WordPiece model, TemplateProcessing or BertProcessing
// post-processor, added tokens). Components it does not implement give an
// error wrapping ErrUnsupported that names them. A "model" object
// without a "type" key (files from early versions of Hugging Face
// tokenizers) gets its kind from its fields, as the reference loader infers
// it: BPE, WordPiece, WordLevel, Unigram, the first whose required fields
// are present. The file's
// truncation and padding blocks are ignored (copies of the same model
// disagree on them); set the length with WithMaxLength.
func Load(path string, opts ...Option) (*Tokenizer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("embedder: reading tokenizer: %w", err)
	}
	t, err := Parse(data, opts...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

type jsonTokenizer struct {
	Version       string           `json:"version"`
	AddedTokens   []jsonAddedToken `json:"added_tokens"`
	Normalizer    json.RawMessage  `json:"normalizer"`
	PreTokenizer  json.RawMessage  `json:"pre_tokenizer"`
	Model         json.RawMessage  `json:"model"`
	PostProcessor json.RawMessage  `json:"post_processor"`
	Decoder       json.RawMessage  `json:"decoder"`
	Truncation    json.RawMessage  `json:"truncation"`
	Padding       json.RawMessage  `json:"padding"`
}

type jsonAddedToken struct {
	ID         *int64 `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

type jsonModel struct {
	Type                    *string          `json:"type"`
	UnkToken                *string          `json:"unk_token"`
	ContinuingSubwordPrefix *string          `json:"continuing_subword_prefix"`
	MaxInputCharsPerWord    *int             `json:"max_input_chars_per_word"`
	Vocab                   *json.RawMessage `json:"vocab"`
}

type jsonTyped struct {
	Type string `json:"type"`
}

type jsonBertNormalizer struct {
	CleanText          *bool `json:"clean_text"`
	HandleChineseChars *bool `json:"handle_chinese_chars"`
	StripAccents       *bool `json:"strip_accents"`
	Lowercase          *bool `json:"lowercase"`
}

type jsonSequence struct {
	Normalizers   []json.RawMessage `json:"normalizers"`
	PreTokenizers []json.RawMessage `json:"pretokenizers"`
	Processors    []json.RawMessage `json:"processors"`
}

type jsonTemplateProcessing struct {
	Single        []jsonTemplatePiece               `json:"single"`
	Pair          []jsonTemplatePiece               `json:"pair"`
	SpecialTokens map[string]jsonTemplateSpecialTok `json:"special_tokens"`
}

type jsonTemplatePiece struct {
	SpecialToken *struct {
		ID     string `json:"id"`
		TypeID int32  `json:"type_id"`
	} `json:"SpecialToken"`
	Sequence *struct {
		ID     string `json:"id"`
		TypeID int32  `json:"type_id"`
	} `json:"Sequence"`
}

type jsonTemplateSpecialTok struct {
	ID     string   `json:"id"`
	IDs    []int64  `json:"ids"`
	Tokens []string `json:"tokens"`
}

type jsonBertProcessing struct {
	Sep [2]json.RawMessage `json:"sep"`
	Cls [2]json.RawMessage `json:"cls"`
}

// Parse parses the content of a Hugging Face tokenizer.json;
// see Load.
func Parse(data []byte, opts ...Option) (*Tokenizer, error) {
	var cfg tokenizerConfig
	for _, o := range opts {
		o(&cfg)
	}
	var j jsonTokenizer
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	err := dec.Decode(&j)
	if err != nil {
		return nil, fmt.Errorf("%w: tokenizer.json: %w", ErrInvalid, err)
	}
	if isNull(j.Model) {
		return nil, fmt.Errorf("%w: tokenizer.json has no model", ErrInvalid)
	}
	var model jsonModel
	if err := json.Unmarshal(j.Model, &model); err != nil {
		return nil, fmt.Errorf("%w: model: %w", ErrInvalid, err)
	}
	kind := ""
	if model.Type != nil {
		kind = *model.Type
	} else if kind, err = inferModelType(j.Model); err != nil {
		return nil, err
	}
	if kind != "WordPiece" {
		return nil, fmt.Errorf("%w: model type %q (only WordPiece is implemented)", ErrUnsupported, kind)
	}
	s := defaultBertSettings()
	// Without a normalizer or pre-tokenizer HF would not lowercase or split;
	// only the BERT components are implemented, so both must be present.
	if err := parseNormalizer(j.Normalizer, &s); err != nil {
		return nil, err
	}
	if err := checkPreTokenizer(j.PreTokenizer); err != nil {
		return nil, err
	}
	if model.UnkToken != nil {
		s.unkToken = *model.UnkToken
	}
	if model.ContinuingSubwordPrefix != nil {
		s.prefix = *model.ContinuingSubwordPrefix
	}
	if model.MaxInputCharsPerWord != nil {
		if *model.MaxInputCharsPerWord <= 0 {
			return nil, fmt.Errorf("%w: model.max_input_chars_per_word %d must be positive", ErrInvalid, *model.MaxInputCharsPerWord)
		}
		s.maxWordChars = *model.MaxInputCharsPerWord
	}
	if err := s.apply(&cfg); err != nil {
		return nil, err
	}
	vocab, err := parseVocab(model.Vocab, j.AddedTokens)
	if err != nil {
		return nil, err
	}
	t, err := newTokenizer(vocab, s)
	if err != nil {
		return nil, err
	}
	added := make([]addedToken, 0, len(j.AddedTokens))
	for _, a := range j.AddedTokens {
		added = append(added, addedToken{
			content: a.Content, id: int32(*a.ID), singleWord: a.SingleWord,
			lstrip: a.LStrip, rstrip: a.RStrip, normalized: a.Normalized, special: a.Special,
		})
	}
	if err := t.setAdded(added); err != nil {
		return nil, err
	}
	if err := t.parsePostProcessor(j.PostProcessor); err != nil {
		return nil, err
	}
	if err := t.finish(); err != nil {
		return nil, err
	}
	return t, nil
}

// inferModelType names the model kind of a "model" object without a
// "type" key, as files written by early versions of Hugging Face tokenizers
// are. The reference loader tries the kinds in a fixed order and takes the
// first whose required fields are present with the right JSON types: BPE
// (vocab and merges), WordPiece (unk_token, continuing_subword_prefix,
// max_input_chars_per_word, vocab), WordLevel (unk_token, vocab), Unigram
// (vocab as a list). WordPiece comes before WordLevel because WordLevel's
// fields are a subset of WordPiece's. Unknown keys are ignored, as there.
func inferModelType(raw json.RawMessage) (string, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return "", fmt.Errorf("%w: model: %w", ErrInvalid, err)
	}
	if _, ok := fields["type"]; ok {
		// Present but null: the reference rejects it for every kind
		// but BPE, whose loader ignores the key; no kind is worth that.
		return "", fmt.Errorf("%w: model.type is null", ErrInvalid)
	}
	fits := func(key string, v any) bool {
		f, ok := fields[key]
		return ok && !isNull(f) && json.Unmarshal(f, v) == nil
	}
	var (
		str        string
		count      uint64
		vocabMap   map[string]uint32
		merges     []json.RawMessage
		vocabPairs [][2]json.RawMessage
	)
	hasVocabMap := fits("vocab", &vocabMap)
	switch {
	case hasVocabMap && fits("merges", &merges):
		return "BPE", nil
	case hasVocabMap && fits("unk_token", &str) && fits("continuing_subword_prefix", &str) && fits("max_input_chars_per_word", &count):
		return "WordPiece", nil
	case hasVocabMap && fits("unk_token", &str):
		return "WordLevel", nil
	case fits("vocab", &vocabPairs):
		return "Unigram", nil
	}
	return "", fmt.Errorf("%w: model has no \"type\" and its fields fit no model kind (WordPiece needs unk_token, continuing_subword_prefix, max_input_chars_per_word and a vocab object of token ids)", ErrInvalid)
}

func isNull(raw json.RawMessage) bool {
	return len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null"
}

func componentType(raw json.RawMessage, what string) (string, error) {
	var ty jsonTyped
	if err := json.Unmarshal(raw, &ty); err != nil {
		return "", fmt.Errorf("%w: %s: %w", ErrInvalid, what, err)
	}
	return ty.Type, nil
}

func parseNormalizer(raw json.RawMessage, s *bertSettings) error {
	if isNull(raw) {
		return fmt.Errorf("%w: normalizer is missing (only BertNormalizer is implemented)", ErrUnsupported)
	}
	ty, err := componentType(raw, "normalizer")
	if err != nil {
		return err
	}
	if ty == "Sequence" {
		var seq jsonSequence
		if err := json.Unmarshal(raw, &seq); err != nil {
			return fmt.Errorf("%w: normalizer: %w", ErrInvalid, err)
		}
		if len(seq.Normalizers) != 1 {
			return fmt.Errorf("%w: normalizer Sequence of %d normalizers (only a single BertNormalizer is implemented)", ErrUnsupported, len(seq.Normalizers))
		}
		return parseNormalizer(seq.Normalizers[0], s)
	}
	if ty != "BertNormalizer" {
		return fmt.Errorf("%w: normalizer type %q (only BertNormalizer is implemented)", ErrUnsupported, ty)
	}
	var n jsonBertNormalizer
	if err := json.Unmarshal(raw, &n); err != nil {
		return fmt.Errorf("%w: BertNormalizer: %w", ErrInvalid, err)
	}
	if n.CleanText != nil {
		s.cleanText = *n.CleanText
	}
	if n.HandleChineseChars != nil {
		s.chineseChars = *n.HandleChineseChars
	}
	if n.Lowercase != nil {
		s.lowercase = *n.Lowercase
	}
	s.stripAccents = n.StripAccents // null: follow lowercase
	return nil
}

func checkPreTokenizer(raw json.RawMessage) error {
	if isNull(raw) {
		return fmt.Errorf("%w: pre_tokenizer is missing (only BertPreTokenizer is implemented)", ErrUnsupported)
	}
	ty, err := componentType(raw, "pre_tokenizer")
	if err != nil {
		return err
	}
	if ty == "Sequence" {
		var seq jsonSequence
		if err := json.Unmarshal(raw, &seq); err != nil {
			return fmt.Errorf("%w: pre_tokenizer: %w", ErrInvalid, err)
		}
		if len(seq.PreTokenizers) != 1 {
			return fmt.Errorf("%w: pre_tokenizer Sequence of %d pre-tokenizers (only a single BertPreTokenizer is implemented)", ErrUnsupported, len(seq.PreTokenizers))
		}
		return checkPreTokenizer(seq.PreTokenizers[0])
	}
	if ty != "BertPreTokenizer" {
		return fmt.Errorf("%w: pre_tokenizer type %q (only BertPreTokenizer is implemented)", ErrUnsupported, ty)
	}
	return nil
}

// parseVocab turns the model's token->id object into an id-indexed slice,
// extended by added tokens whose ids lie beyond it.
func parseVocab(raw *json.RawMessage, added []jsonAddedToken) ([]string, error) {
	if raw == nil || isNull(*raw) {
		return nil, fmt.Errorf("%w: model.vocab is missing", ErrInvalid)
	}
	var m map[string]int64
	if err := json.Unmarshal(*raw, &m); err != nil {
		return nil, fmt.Errorf("%w: model.vocab must map tokens to ids: %w", ErrInvalid, err)
	}
	size := int64(0)
	for _, id := range m {
		if id >= size {
			size = id + 1
		}
	}
	for i, a := range added {
		if a.ID == nil {
			return nil, fmt.Errorf("%w: added_tokens[%d] (%q) has no id", ErrInvalid, i, a.Content)
		}
		if *a.ID < 0 || *a.ID > 1<<31-2 {
			return nil, fmt.Errorf("%w: added_tokens[%d] (%q) has id %d out of range", ErrInvalid, i, a.Content, *a.ID)
		}
		if *a.ID >= size {
			size = *a.ID + 1
		}
	}
	if size > 1<<24 {
		return nil, fmt.Errorf("%w: vocabulary of %d ids is implausibly large", ErrInvalid, size)
	}
	// Every id below size needs a token, so ids beyond the number of
	// tokens listed leave a gap: say so before allocating for them (one
	// vocab entry of id 16,777,215 in a 100-byte file made 285 MB of
	// tables before the gap was found).
	if listed := int64(len(m) + len(added)); size > listed {
		return nil, fmt.Errorf("%w: model.vocab: ids reach %d but %d tokens are listed: no token has id for at least %d of them", ErrInvalid, size-1, listed, size-listed)
	}
	vocab := make([]string, size)
	set := make([]bool, size)
	for tok, id := range m {
		if id < 0 || id >= size {
			return nil, fmt.Errorf("%w: model.vocab: token %q has id %d outside 0..%d", ErrInvalid, tok, id, size-1)
		}
		if set[id] {
			return nil, fmt.Errorf("%w: model.vocab: id %d is used by both %q and %q", ErrInvalid, id, vocab[id], tok)
		}
		vocab[id], set[id] = tok, true
	}
	for _, a := range added {
		if !set[*a.ID] {
			vocab[*a.ID], set[*a.ID] = a.Content, true
		}
	}
	for id, ok := range set {
		if !ok {
			return nil, fmt.Errorf("%w: model.vocab: no token has id %d", ErrInvalid, id)
		}
	}
	return vocab, nil
}

func (t *Tokenizer) parsePostProcessor(raw json.RawMessage) error {
	if isNull(raw) {
		return nil // no specials are ever added
	}
	ty, err := componentType(raw, "post_processor")
	if err != nil {
		return err
	}
	switch ty {
	case "Sequence":
		var seq jsonSequence
		if err := json.Unmarshal(raw, &seq); err != nil {
			return fmt.Errorf("%w: post_processor: %w", ErrInvalid, err)
		}
		if len(seq.Processors) != 1 {
			return fmt.Errorf("%w: post_processor Sequence of %d processors (only a single TemplateProcessing or BertProcessing is implemented)", ErrUnsupported, len(seq.Processors))
		}
		return t.parsePostProcessor(seq.Processors[0])
	case "BertProcessing":
		var bp jsonBertProcessing
		if err := json.Unmarshal(raw, &bp); err != nil {
			return fmt.Errorf("%w: BertProcessing: %w", ErrInvalid, err)
		}
		var clsName, sepName string
		var clsID, sepID int64
		if err := unmarshalPair(bp.Cls, &clsName, &clsID); err != nil {
			return fmt.Errorf("%w: BertProcessing.cls: %w", ErrInvalid, err)
		}
		if err := unmarshalPair(bp.Sep, &sepName, &sepID); err != nil {
			return fmt.Errorf("%w: BertProcessing.sep: %w", ErrInvalid, err)
		}
		for _, id := range []int64{clsID, sepID} {
			if id < 0 || id >= int64(len(t.vocab)) {
				return fmt.Errorf("%w: BertProcessing id %d outside the vocabulary", ErrInvalid, id)
			}
		}
		c, sp := int32(clsID), int32(sepID)
		t.procKind = "BertProcessing"
		t.specialToks = map[string][]int32{clsName: {c}, sepName: {sp}}
		t.single = []tmplItem{{ids: []int32{c}, name: clsName}, {name: "A"}, {ids: []int32{sp}, name: sepName}}
		t.pair = []tmplItem{{ids: []int32{c}, name: clsName}, {name: "A"}, {ids: []int32{sp}, name: sepName},
			{name: "B", typeID: 1}, {ids: []int32{sp}, name: sepName, typeID: 1}}
		return nil
	case "TemplateProcessing":
		var tp jsonTemplateProcessing
		if err := json.Unmarshal(raw, &tp); err != nil {
			return fmt.Errorf("%w: TemplateProcessing: %w", ErrInvalid, err)
		}
		t.procKind = "TemplateProcessing"
		t.specialToks = make(map[string][]int32, len(tp.SpecialTokens))
		for name, st := range tp.SpecialTokens {
			ids := make([]int32, len(st.IDs))
			for i, id := range st.IDs {
				if id < 0 || id >= int64(len(t.vocab)) {
					return fmt.Errorf("%w: TemplateProcessing special token %q has id %d outside the vocabulary", ErrInvalid, name, id)
				}
				ids[i] = int32(id)
			}
			t.specialToks[name] = ids
		}
		if t.single, err = t.template(tp.Single, "single", false); err != nil {
			return err
		}
		if t.pair, err = t.template(tp.Pair, "pair", true); err != nil {
			return err
		}
		return nil
	}
	return fmt.Errorf("%w: post_processor type %q (only TemplateProcessing and BertProcessing are implemented)", ErrUnsupported, ty)
}

func unmarshalPair(p [2]json.RawMessage, name *string, id *int64) error {
	if p[0] == nil || p[1] == nil {
		return fmt.Errorf("want [token, id]")
	}
	if err := json.Unmarshal(p[0], name); err != nil {
		return err
	}
	return json.Unmarshal(p[1], id)
}

func (t *Tokenizer) template(pieces []jsonTemplatePiece, which string, pair bool) ([]tmplItem, error) {
	var out []tmplItem
	seen := map[string]bool{}
	for i, p := range pieces {
		switch {
		case p.SpecialToken != nil:
			ids, ok := t.specialToks[p.SpecialToken.ID]
			if !ok {
				return nil, fmt.Errorf("%w: TemplateProcessing.%s[%d]: special token %q is not in special_tokens", ErrInvalid, which, i, p.SpecialToken.ID)
			}
			out = append(out, tmplItem{ids: ids, name: p.SpecialToken.ID, typeID: p.SpecialToken.TypeID})
		case p.Sequence != nil:
			id := p.Sequence.ID
			if id != "A" && (id != "B" || !pair) {
				return nil, fmt.Errorf("%w: TemplateProcessing.%s[%d]: unknown sequence %q", ErrInvalid, which, i, id)
			}
			if seen[id] {
				return nil, fmt.Errorf("%w: TemplateProcessing.%s: sequence %q appears twice", ErrUnsupported, which, id)
			}
			seen[id] = true
			out = append(out, tmplItem{name: id, typeID: p.Sequence.TypeID})
		default:
			return nil, fmt.Errorf("%w: TemplateProcessing.%s[%d] is neither SpecialToken nor Sequence", ErrInvalid, which, i)
		}
	}
	if len(pieces) > 0 && (!seen["A"] || (pair && !seen["B"])) {
		return nil, fmt.Errorf("%w: TemplateProcessing.%s lacks a sequence placeholder", ErrInvalid, which)
	}
	return out, nil
}

// LoadVocabTxt reads a BERT vocab.txt: one token per line, the line number
// (from 0) being its id. Trailing whitespace is trimmed, as HF does.
func LoadVocabTxt(r io.Reader) ([]string, error) {
	var vocab []string
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if len(line) > 0 {
			vocab = append(vocab, strings.TrimRight(line, " \t\r\n\v\f"))
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("embedder: reading vocab.txt: %w", err)
		}
	}
	if len(vocab) == 0 {
		return nil, fmt.Errorf("%w: vocab.txt is empty", ErrInvalid)
	}
	return vocab, nil
}

// MarshalJSON writes a minimal valid Hugging Face tokenizer.json for this
// tokenizer (BertNormalizer, BertPreTokenizer, WordPiece, the post-processor,
// added tokens and a WordPiece decoder), with the vocabulary in id order.
// Parse of the output gives a tokenizer with the same ids.
func (t *Tokenizer) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	str := func(s string) {
		enc, _ := json.Marshal(s) // marshaling a string cannot fail
		b.Write(enc)
	}
	b.WriteString("{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n  \"added_tokens\": [")
	added := append(append([]addedToken(nil), t.added...), t.normAdded...)
	sort.Slice(added, func(i, j int) bool { return added[i].id < added[j].id })
	for i, a := range added {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "\n    {\"id\": %d, \"content\": ", a.id)
		str(a.content)
		fmt.Fprintf(&b, ", \"single_word\": %t, \"lstrip\": %t, \"rstrip\": %t, \"normalized\": %t, \"special\": %t}",
			a.singleWord, a.lstrip, a.rstrip, a.normalized, a.special)
	}
	b.WriteString("\n  ],\n")
	fmt.Fprintf(&b, "  \"normalizer\": {\"type\": \"BertNormalizer\", \"clean_text\": %t, \"handle_chinese_chars\": %t, \"strip_accents\": %t, \"lowercase\": %t},\n",
		t.cleanText, t.chineseChars, t.stripAccents, t.lowercase)
	b.WriteString("  \"pre_tokenizer\": {\"type\": \"BertPreTokenizer\"},\n  \"post_processor\": ")
	if len(t.single) == 0 {
		b.WriteString("null")
	} else if t.procKind == "BertProcessing" {
		cls, sep := t.single[0], t.single[len(t.single)-1]
		b.WriteString("{\"type\": \"BertProcessing\", \"sep\": [")
		str(sep.name)
		fmt.Fprintf(&b, ", %d], \"cls\": [", sep.ids[0])
		str(cls.name)
		fmt.Fprintf(&b, ", %d]}", cls.ids[0])
	} else {
		b.WriteString("{\"type\": \"TemplateProcessing\", \"single\": ")
		t.writeTemplate(&b, t.single, str)
		b.WriteString(", \"pair\": ")
		t.writeTemplate(&b, t.pair, str)
		b.WriteString(", \"special_tokens\": {")
		names := make([]string, 0, len(t.specialToks))
		for n := range t.specialToks {
			names = append(names, n)
		}
		sort.Strings(names)
		for i, n := range names {
			if i > 0 {
				b.WriteString(", ")
			}
			str(n)
			b.WriteString(": {\"id\": ")
			str(n)
			b.WriteString(", \"ids\": [")
			for k, id := range t.specialToks[n] {
				if k > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "%d", id)
			}
			b.WriteString("], \"tokens\": [")
			for k, id := range t.specialToks[n] {
				if k > 0 {
					b.WriteString(", ")
				}
				str(t.vocab[id])
			}
			b.WriteString("]}")
		}
		b.WriteString("}}")
	}
	b.WriteString(",\n  \"decoder\": {\"type\": \"WordPiece\", \"prefix\": ")
	str(t.prefix)
	b.WriteString(", \"cleanup\": true},\n  \"model\": {\"type\": \"WordPiece\", \"unk_token\": ")
	str(t.unkToken)
	b.WriteString(", \"continuing_subword_prefix\": ")
	str(t.prefix)
	fmt.Fprintf(&b, ", \"max_input_chars_per_word\": %d, \"vocab\": {", t.maxWordChars)
	for id, tok := range t.vocab {
		if id > 0 {
			b.WriteByte(',')
		}
		b.WriteString("\n    ")
		str(tok)
		fmt.Fprintf(&b, ": %d", id)
	}
	b.WriteString("\n  }}\n}\n")
	return b.Bytes(), nil
}

func (t *Tokenizer) writeTemplate(b *bytes.Buffer, tmpl []tmplItem, str func(string)) {
	b.WriteByte('[')
	for i, it := range tmpl {
		if i > 0 {
			b.WriteString(", ")
		}
		if it.ids != nil {
			b.WriteString("{\"SpecialToken\": {\"id\": ")
			str(it.name)
		} else {
			b.WriteString("{\"Sequence\": {\"id\": ")
			str(it.name)
		}
		fmt.Fprintf(b, ", \"type_id\": %d}}", it.typeID)
	}
	b.WriteByte(']')
}
