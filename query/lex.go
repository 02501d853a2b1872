package query

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

type tokKind uint8

const (
	tEOF tokKind = iota
	tIdent
	tQuotedIdent
	tString
	tInt
	tFloat
	tLParen
	tRParen
	tLBrack
	tRBrack
	tComma
	tOp
	// Keywords, matched case-insensitively on whole identifiers.
	tAnd
	tOr
	tNot
	tIn
	tContains
	tExists
	tTrue
	tFalse
)

// keywordOf matches the keywords case-insensitively on a whole identifier.
// A switch rather than a table keeps the package free of package-level
// variables.
func keywordOf(s string) (tokKind, bool) {
	eq := strings.EqualFold
	switch len(s) {
	case 2:
		if eq(s, "OR") {
			return tOr, true
		}
		if eq(s, "IN") {
			return tIn, true
		}
	case 3:
		if eq(s, "AND") {
			return tAnd, true
		}
		if eq(s, "NOT") {
			return tNot, true
		}
	case 4:
		if eq(s, "TRUE") {
			return tTrue, true
		}
	case 5:
		if eq(s, "FALSE") {
			return tFalse, true
		}
	case 6:
		if eq(s, "EXISTS") {
			return tExists, true
		}
	case 8:
		if eq(s, "CONTAINS") {
			return tContains, true
		}
	}
	return 0, false
}

type token struct {
	kind tokKind
	pos  int    // byte offset of the first byte
	end  int    // byte offset after the last byte
	str  string // decoded content of tIdent, tQuotedIdent, tString
	i    int64
	f    float64
	op   cmpOp
}

func isIdentStart(c byte) bool {
	return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

func isIdentChar(c byte) bool {
	return isIdentStart(c) || ('0' <= c && c <= '9') || c == '.' || c == '-'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

type lexer struct {
	src string
	pos int
}

func (l *lexer) errf(pos int, format string, args ...any) *SyntaxError {
	return &SyntaxError{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// next scans one token. The input is known to be valid UTF-8 (Parse checks
// it first), so only ASCII needs care outside quoted text.
func (l *lexer) next() (token, *SyntaxError) {
	for l.pos < len(l.src) {
		switch l.src[l.pos] {
		case ' ', '\t', '\n', '\r':
			l.pos++
			continue
		}
		break
	}
	start := l.pos
	if start >= len(l.src) {
		return token{kind: tEOF, pos: start, end: start}, nil
	}
	tok := token{pos: start}
	c := l.src[start]
	switch {
	case c == '(':
		tok.kind = tLParen
		l.pos++
	case c == ')':
		tok.kind = tRParen
		l.pos++
	case c == '[':
		tok.kind = tLBrack
		l.pos++
	case c == ']':
		tok.kind = tRBrack
		l.pos++
	case c == ',':
		tok.kind = tComma
		l.pos++
	case c == '=' || c == '!' || c == '<' || c == '>':
		return l.operator()
	case c == '"' || c == '\'':
		s, err := l.quoted(c)
		if err != nil {
			return tok, err
		}
		tok.kind, tok.str = tString, s
	case c == '`':
		s, err := l.quoted(c)
		if err != nil {
			return tok, err
		}
		if s == "" {
			return tok, l.errf(start, "empty quoted field name")
		}
		tok.kind, tok.str = tQuotedIdent, s
	case c == '-' || isDigit(c):
		return l.number()
	case isIdentStart(c):
		for l.pos < len(l.src) && isIdentChar(l.src[l.pos]) {
			l.pos++
		}
		tok.str = l.src[start:l.pos]
		if k, ok := keywordOf(tok.str); ok {
			tok.kind = k
		} else {
			tok.kind = tIdent
		}
	default:
		r, _ := utf8.DecodeRuneInString(l.src[start:])
		return tok, l.errf(start, "unexpected character %q", r)
	}
	tok.end = l.pos
	return tok, nil
}

func (l *lexer) operator() (token, *SyntaxError) {
	start := l.pos
	two := ""
	if start+2 <= len(l.src) {
		two = l.src[start : start+2]
	}
	tok := token{kind: tOp, pos: start}
	switch two {
	case "==":
		tok.op = opEq
	case "!=", "<>":
		tok.op = opNe
	case ">=":
		tok.op = opGte
	case "<=":
		tok.op = opLte
	}
	if tok.op != 0 {
		l.pos += 2
		tok.end = l.pos
		return tok, nil
	}
	switch l.src[start] {
	case '=':
		tok.op = opEq
	case '<':
		tok.op = opLt
	case '>':
		tok.op = opGt
	default:
		return tok, l.errf(start, `unexpected character '!' (use "!=" or NOT)`)
	}
	l.pos++
	tok.end = l.pos
	return tok, nil
}

// number scans -?digits(.digits)?([eE][+-]?digits)? and requires it to end
// at a delimiter, so "2020abc" is one error rather than two tokens.
func (l *lexer) number() (token, *SyntaxError) {
	start := l.pos
	s := l.src
	i := start
	if s[i] == '-' {
		i++
	}
	digits := func() int {
		j := i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		return i - j
	}
	if digits() == 0 {
		return token{}, l.errf(i, "expected digit after '-'")
	}
	isFloat := false
	if i < len(s) && s[i] == '.' {
		isFloat = true
		i++
		if digits() == 0 {
			return token{}, l.errf(i, "expected digit after decimal point")
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		isFloat = true
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return token{}, l.errf(i, "expected digit in exponent")
		}
	}
	if i < len(s) && isIdentChar(s[i]) {
		return token{}, l.errf(i, "unexpected %q after number %s", s[i], s[start:i])
	}
	l.pos = i
	text := s[start:i]
	tok := token{pos: start, end: i}
	if isFloat {
		f, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsInf(f, 0) {
			return tok, l.errf(start, "number %s is out of the float64 range", text)
		}
		tok.kind, tok.f = tFloat, f
		return tok, nil
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return tok, l.errf(start, "integer %s is out of the int64 range (write it as a float, e.g. %s.0, if that is meant)", text, text)
	}
	tok.kind, tok.i = tInt, n
	return tok, nil
}

// quoted scans a string or backtick field name delimited by q. Escapes:
// \" \' \` \\ \/ \b \f \n \r \t and \uXXXX (with UTF-16 surrogate pairs, as
// in JSON, so JSON string literals paste in unchanged).
func (l *lexer) quoted(q byte) (string, *SyntaxError) {
	start := l.pos
	s := l.src
	i := start + 1
	// Fast path: no escapes.
	j := i
	for j < len(s) && s[j] != q && s[j] != '\\' {
		j++
	}
	if j < len(s) && s[j] == q {
		l.pos = j + 1
		return s[i:j], nil
	}
	var b strings.Builder
	b.WriteString(s[i:j])
	i = j
	for {
		if i >= len(s) {
			return "", l.errf(start, "unterminated %s starting here", quotedWhat(q))
		}
		c := s[i]
		if c == q {
			l.pos = i + 1
			return b.String(), nil
		}
		if c != '\\' {
			b.WriteByte(c)
			i++
			continue
		}
		if i+1 >= len(s) {
			return "", l.errf(start, "unterminated %s starting here", quotedWhat(q))
		}
		switch e := s[i+1]; e {
		case '"', '\'', '`', '\\', '/':
			b.WriteByte(e)
			i += 2
		case 'b':
			b.WriteByte('\b')
			i += 2
		case 'f':
			b.WriteByte('\f')
			i += 2
		case 'n':
			b.WriteByte('\n')
			i += 2
		case 'r':
			b.WriteByte('\r')
			i += 2
		case 't':
			b.WriteByte('\t')
			i += 2
		case 'u':
			r, n, err := l.unicodeEscape(i)
			if err != nil {
				return "", err
			}
			b.WriteRune(r)
			i += n
		default:
			r, _ := utf8.DecodeRuneInString(s[i+1:])
			return "", l.errf(i, "invalid escape \\%c (valid: \\\" \\' \\` \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)", r)
		}
	}
}

func quotedWhat(q byte) string {
	if q == '`' {
		return "quoted field name"
	}
	return "string"
}

// unicodeEscape decodes \uXXXX at s[i] (and a following low surrogate), and
// returns the rune and the bytes consumed.
func (l *lexer) unicodeEscape(i int) (rune, int, *SyntaxError) {
	hex4 := func(at int) (rune, bool) {
		if at+6 > len(l.src) || l.src[at] != '\\' || l.src[at+1] != 'u' {
			return 0, false
		}
		v, err := strconv.ParseUint(l.src[at+2:at+6], 16, 16)
		if err != nil {
			return 0, false
		}
		return rune(v), true
	}
	r, ok := hex4(i)
	if !ok {
		return 0, 0, l.errf(i, `invalid \u escape: want exactly four hex digits`)
	}
	switch {
	case utf16.IsSurrogate(r) && r < 0xDC00:
		lo, ok := hex4(i + 6)
		if !ok || lo < 0xDC00 || lo > 0xDFFF {
			return 0, 0, l.errf(i, `\u%04X is a high surrogate not followed by a \uDC00-\uDFFF low surrogate`, r)
		}
		return utf16.DecodeRune(r, lo), 12, nil
	case utf16.IsSurrogate(r):
		return 0, 0, l.errf(i, `\u%04X is a lone low surrogate`, r)
	}
	return r, 6, nil
}
