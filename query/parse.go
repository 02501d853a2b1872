package query

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxExprLen is the longest expression Parse accepts, in bytes. Filters are
// typed by people or generated for one query; anything longer is almost
// certainly a mistake or an attack on the parser.
const MaxExprLen = 64 << 10

// Parse reads a filter in the text syntax described in the package
// documentation. Every error is a *SyntaxError (errors.Is(err, ErrSyntax))
// whose Pos is the byte offset of the problem; the literal rules of the
// constructors (no ordering on bools or lists, IN lists of one kind, ...)
// are checked here too and reported at the offending literal. A filter
// returned by Parse always passes Validate.
func Parse(expr string) (Filter, error) {
	if len(expr) > MaxExprLen {
		return nil, &SyntaxError{Pos: MaxExprLen, Msg: fmt.Sprintf("expression is %d bytes long; the limit is %d", len(expr), MaxExprLen)}
	}
	if !utf8.ValidString(expr) {
		for i := 0; i < len(expr); {
			r, size := utf8.DecodeRuneInString(expr[i:])
			if r == utf8.RuneError && size == 1 {
				return nil, &SyntaxError{Pos: i, Msg: fmt.Sprintf("invalid UTF-8 byte 0x%02x", expr[i])}
			}
			i += size
		}
	}
	p := &parser{lex: lexer{src: expr}}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind == tEOF {
		return nil, p.errf(p.tok.pos, "empty filter expression")
	}
	f, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tEOF {
		what := "AND, OR or end of input"
		if p.tok.kind == tRParen {
			what = "AND, OR or end of input (unbalanced \")\")"
		}
		return nil, p.expected(what)
	}
	return f, nil
}

type parser struct {
	lex   lexer
	tok   token // current (not yet consumed) token
	depth int
}

func (p *parser) errf(pos int, format string, args ...any) *SyntaxError {
	return &SyntaxError{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) advance() *SyntaxError {
	t, err := p.lex.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

// text returns the source text of the current token.
func (p *parser) text() string { return p.lex.src[p.tok.pos:p.tok.end] }

// describe names the current token for "got ..." in messages, truncating
// long literals so one error stays one readable line.
func (p *parser) describe() string {
	t := p.text()
	if len(t) > 40 {
		cut := 40
		for cut > 0 && !utf8.RuneStart(t[cut]) {
			cut--
		}
		t = t[:cut] + "…"
	}
	switch p.tok.kind {
	case tEOF:
		return "end of input"
	case tIdent:
		return "identifier " + t
	case tQuotedIdent:
		return "quoted field name " + t
	case tString:
		return "string " + t
	case tInt, tFloat:
		return "number " + t
	case tLParen, tRParen, tLBrack, tRBrack, tComma, tOp:
		return strconv.Quote(t)
	}
	return "keyword " + strings.ToUpper(t)
}

func (p *parser) expected(what string) *SyntaxError {
	return p.errf(p.tok.pos, "expected %s, got %s", what, p.describe())
}

// enter counts one level of nesting (a NOT or a parenthesis) at pos.
func (p *parser) enter(pos int) *SyntaxError {
	if p.depth >= MaxDepth {
		return p.errf(pos, "expression nests deeper than %d levels of NOT and parentheses", MaxDepth)
	}
	p.depth++
	return nil
}

func (p *parser) parseOr() (Filter, *SyntaxError) {
	f, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tOr {
		return f, nil
	}
	fs := []Filter{f}
	for p.tok.kind == tOr {
		if err := p.advance(); err != nil {
			return nil, err
		}
		f, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		fs = append(fs, f)
	}
	return Or(fs...), nil
}

func (p *parser) parseAnd() (Filter, *SyntaxError) {
	f, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tAnd {
		return f, nil
	}
	fs := []Filter{f}
	for p.tok.kind == tAnd {
		if err := p.advance(); err != nil {
			return nil, err
		}
		f, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		fs = append(fs, f)
	}
	return And(fs...), nil
}

func (p *parser) parseUnary() (Filter, *SyntaxError) {
	if p.tok.kind != tNot {
		return p.parsePrimary()
	}
	if err := p.enter(p.tok.pos); err != nil {
		return nil, err
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	f, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	p.depth--
	return Not(f), nil
}

func (p *parser) parsePrimary() (Filter, *SyntaxError) {
	switch p.tok.kind {
	case tLParen:
		open := p.tok.pos
		if err := p.enter(open); err != nil {
			return nil, err
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		f, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tRParen {
			return nil, p.expected(fmt.Sprintf(`AND, OR or ")" to close "(" at %d`, open))
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		p.depth--
		return f, nil
	case tExists:
		if err := p.advance(); err != nil {
			return nil, err
		}
		field, err := p.field("field name after EXISTS")
		if err != nil {
			return nil, err
		}
		return Exists(field), nil
	case tIdent, tQuotedIdent:
		field, err := p.field("")
		if err != nil {
			return nil, err
		}
		return p.predicate(field)
	}
	what := `field name, EXISTS, NOT or "("`
	if p.tok.kind >= tAnd {
		return nil, p.errf(p.tok.pos, "expected %s, got %s (a field named like a keyword must be quoted: `%s`)", what, p.describe(), p.text())
	}
	return nil, p.expected(what)
}

// field consumes a field name; what overrides the default expectation text.
func (p *parser) field(what string) (string, *SyntaxError) {
	if p.tok.kind != tIdent && p.tok.kind != tQuotedIdent {
		if what == "" {
			what = "field name"
		}
		if p.tok.kind >= tAnd {
			return "", p.errf(p.tok.pos, "expected %s, got %s (a field named like a keyword must be quoted: `%s`)", what, p.describe(), p.text())
		}
		return "", p.expected(what)
	}
	name := p.tok.str
	return name, p.advance()
}

func (p *parser) predicate(field string) (Filter, *SyntaxError) {
	switch p.tok.kind {
	case tOp:
		op, opText := p.tok.op, p.text()
		if err := p.advance(); err != nil {
			return nil, err
		}
		pos := p.tok.pos
		v, err := p.value(fmt.Sprintf("value after %q", opText))
		if err != nil {
			return nil, err
		}
		if msg := checkCmpLiteral(op, v); msg != "" {
			return nil, p.errf(pos, "%s", msg)
		}
		return &cmpFilter{field: field, op: op, val: v}, nil
	case tIn:
		if err := p.advance(); err != nil {
			return nil, err
		}
		vals, err := p.inList("IN")
		if err != nil {
			return nil, err
		}
		return &inFilter{field: field, vals: vals}, nil
	case tContains:
		if err := p.advance(); err != nil {
			return nil, err
		}
		s, err := p.stringLit("CONTAINS")
		if err != nil {
			return nil, err
		}
		return Contains(field, s), nil
	case tExists:
		return Exists(field), p.advance()
	case tNot:
		// field NOT IN / NOT CONTAINS / NOT EXISTS. NOT IN has its own node;
		// the other two print as a prefix NOT, which counts as a level of
		// nesting when re-parsed, so it is counted here too.
		notPos := p.tok.pos
		if err := p.advance(); err != nil {
			return nil, err
		}
		switch p.tok.kind {
		case tIn:
			if err := p.advance(); err != nil {
				return nil, err
			}
			vals, err := p.inList("NOT IN")
			if err != nil {
				return nil, err
			}
			return &inFilter{field: field, vals: vals, neg: true}, nil
		case tContains, tExists:
			if err := p.enter(notPos); err != nil {
				return nil, err
			}
			p.depth--
			f, err := p.predicate(field)
			if err != nil {
				return nil, err
			}
			return Not(f), nil
		}
		return nil, p.expected("IN, CONTAINS or EXISTS after NOT")
	}
	return nil, p.expected(fmt.Sprintf("operator (= != < <= > >= IN, NOT IN, CONTAINS, EXISTS) after field %s", quoteField(field)))
}

// value consumes a literal: string, number, true/false or a list of
// strings.
func (p *parser) value(what string) (Value, *SyntaxError) {
	var v Value
	switch p.tok.kind {
	case tString:
		v = String(p.tok.str)
	case tInt:
		v = Int(p.tok.i)
	case tFloat:
		v = Float(p.tok.f)
	case tTrue:
		v = Bool(true)
	case tFalse:
		v = Bool(false)
	case tLBrack:
		return p.stringList()
	case tIdent:
		t := p.text()
		if strings.EqualFold(t, "nan") || strings.EqualFold(t, "inf") || strings.EqualFold(t, "infinity") {
			return v, p.errf(p.tok.pos, "expected %s, got %s: NaN and Inf are not allowed", what, t)
		}
		return v, p.errf(p.tok.pos, "expected %s, got identifier %s (string values need quotes: \"%s\")", what, t, t)
	default:
		return v, p.expected(what)
	}
	return v, p.advance()
}

// stringList consumes ["a", "b", ...], the literal of a KindStrings value.
func (p *parser) stringList() (Value, *SyntaxError) {
	var ss []string
	err := p.list(func() *SyntaxError {
		if p.tok.kind != tString {
			return p.expected("string in list (list values hold only strings)")
		}
		ss = append(ss, p.tok.str)
		return p.advance()
	})
	if err != nil {
		return Value{}, err
	}
	return Value{kind: KindStrings, ss: ss}, nil
}

// inList consumes the [..] after IN / NOT IN: scalars of one kind.
func (p *parser) inList(op string) ([]Value, *SyntaxError) {
	if p.tok.kind != tLBrack {
		return nil, p.expected(fmt.Sprintf(`"[" after %s`, op))
	}
	vals := []Value{}
	var positions []int
	err := p.list(func() *SyntaxError {
		if p.tok.kind == tLBrack {
			return p.errf(p.tok.pos, "IN lists hold scalars (string, int, float, bool), not lists; use CONTAINS for list fields")
		}
		positions = append(positions, p.tok.pos)
		v, err := p.value(fmt.Sprintf("value in %s list", op))
		if err != nil {
			return err
		}
		vals = append(vals, v)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if i, msg, _ := checkInList(vals); msg != "" {
		return nil, p.errf(positions[i], "%s", msg)
	}
	return vals, nil
}

// list consumes '[' (elem (',' elem)*)? ']' calling elem at each element.
func (p *parser) list(elem func() *SyntaxError) *SyntaxError {
	if err := p.advance(); err != nil { // the '['
		return err
	}
	if p.tok.kind == tRBrack {
		return p.advance()
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		switch p.tok.kind {
		case tComma:
			if err := p.advance(); err != nil {
				return err
			}
		case tRBrack:
			return p.advance()
		default:
			return p.expected(`"," or "]" in list`)
		}
	}
}

func (p *parser) stringLit(after string) (string, *SyntaxError) {
	if p.tok.kind != tString {
		return "", p.expected("string after " + after)
	}
	s := p.tok.str
	return s, p.advance()
}
