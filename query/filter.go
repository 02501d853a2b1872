package query

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"unicode/utf8"
)

// Filter is a predicate over a document's metadata.
//
// Match evaluates the filter. A field that is present but holds a value of
// another kind than the literal it is compared with is an error wrapping
// ErrTypeMismatch (a *TypeError naming field, stored kind and literal), not
// a silent false. int and float are both numbers and compare with each
// other; every other pairing must match kinds exactly.
//
// String returns the canonical text syntax: Parse(f.String()) yields an
// equivalent filter for every f that passes Validate (provided the text is
// within MaxExprLen).
//
// The filters built by this package are immutable and safe for concurrent
// use, and Match does not allocate unless it returns an error. Other
// implementations of Filter may be combined with And, Or and Not; Validate
// and Fields consult them through optional `Validate() error` and
// `Fields() []string` methods when they have them.
type Filter interface {
	Match(md Metadata) (bool, error)
	String() string
}

// MaxDepth is the deepest nesting of NOT and parentheses that Parse and
// Validate accept. It bounds recursion so hostile input cannot exhaust the
// stack.
const MaxDepth = 100

// cmpOp is a comparison operator.
type cmpOp uint8

const (
	opEq cmpOp = iota + 1
	opNe
	opGt
	opGte
	opLt
	opLte
)

func (o cmpOp) String() string {
	switch o {
	case opEq:
		return "="
	case opNe:
		return "!="
	case opGt:
		return ">"
	case opGte:
		return ">="
	case opLt:
		return "<"
	case opLte:
		return "<="
	}
	return "?"
}

func (o cmpOp) ordering() bool { return o >= opGt }

// cmpFilter is field OP literal.
type cmpFilter struct {
	field string
	op    cmpOp
	val   Value
	err   error // set by the constructor for a bad field or literal
}

func newCmp(field string, op cmpOp, x any) Filter {
	c := &cmpFilter{field: field, op: op}
	if err := checkField(field); err != nil {
		c.err = err
		return c
	}
	v, err := ValueOf(x)
	if err != nil {
		c.err = fmt.Errorf("%w: literal of %s %s: %w", ErrInvalidFilter, quoteField(field), op, err)
		return c
	}
	c.val = v
	if msg := checkCmpLiteral(op, v); msg != "" {
		c.err = fmt.Errorf("%w: %s %s %s: %s: %w", ErrInvalidFilter, quoteField(field), op, v, msg, ErrTypeMismatch)
	}
	return c
}

// checkCmpLiteral holds the literal rules shared by the constructors and
// the parser, so both reject the same filters.
func checkCmpLiteral(op cmpOp, v Value) string {
	if op.ordering() && (v.kind == KindBool || v.kind == KindStrings) {
		return fmt.Sprintf("operator %s is not defined for %s values", op, v.kind)
	}
	return ""
}

// Eq matches documents whose field equals v. Numbers compare by value
// across int and float; lists compare as whole ordered lists (use Contains
// for membership). A missing field does not match.
//
// Like every constructor here, Eq never fails: a bad field name or a v that
// ValueOf rejects makes the filter invalid; Validate reports it before use
// and Match returns it.
func Eq(field string, v any) Filter { return newCmp(field, opEq, v) }

// Ne is exactly Not(Eq(field, v)): it also matches documents that lack the
// field, and it returns the same type errors as Eq.
func Ne(field string, v any) Filter { return newCmp(field, opNe, v) }

// Gt matches documents whose field is greater than v. Numbers compare
// numerically (an int with a float exactly, without rounding), strings by
// byte order. Bools and lists are not ordered: such a literal makes the
// filter invalid, and such a stored value is a type mismatch. A missing
// field does not match.
func Gt(field string, v any) Filter { return newCmp(field, opGt, v) }

// Gte is like Gt for "greater than or equal".
func Gte(field string, v any) Filter { return newCmp(field, opGte, v) }

// Lt is like Gt for "less than".
func Lt(field string, v any) Filter { return newCmp(field, opLt, v) }

// Lte is like Gt for "less than or equal".
func Lte(field string, v any) Filter { return newCmp(field, opLte, v) }

func (c *cmpFilter) Match(md Metadata) (bool, error) {
	if c.err != nil {
		return false, c.err
	}
	v, ok := md[c.field]
	if !ok {
		return c.op == opNe, nil
	}
	if !compatible(v.kind, c.val.kind) {
		return false, &TypeError{Field: c.field, Op: c.op.String(), Stored: v.kind, Literal: c.val}
	}
	switch c.op {
	case opEq:
		return equalValues(v, c.val), nil
	case opNe:
		return !equalValues(v, c.val), nil
	}
	r, ok := compareOrdered(v, c.val)
	if !ok { // a stored NaN is unordered
		return false, nil
	}
	switch c.op {
	case opGt:
		return r > 0, nil
	case opGte:
		return r >= 0, nil
	case opLt:
		return r < 0, nil
	default:
		return r <= 0, nil
	}
}

func (c *cmpFilter) String() string {
	var b strings.Builder
	writeField(&b, c.field)
	b.WriteByte(' ')
	b.WriteString(c.op.String())
	b.WriteByte(' ')
	c.val.appendLiteral(&b)
	return b.String()
}

// inFilter is field [NOT] IN [literals].
type inFilter struct {
	field string
	vals  []Value
	neg   bool
	err   error
}

func newIn(field string, neg bool, xs []any) Filter {
	f := &inFilter{field: field, neg: neg}
	if err := checkField(field); err != nil {
		f.err = err
		return f
	}
	f.vals = make([]Value, len(xs))
	for i, x := range xs {
		v, err := ValueOf(x)
		if err != nil {
			f.err = fmt.Errorf("%w: %s %s: element %d: %w", ErrInvalidFilter, quoteField(field), f.opName(), i, err)
			return f
		}
		f.vals[i] = v
	}
	if i, msg, mixed := checkInList(f.vals); msg != "" {
		f.err = fmt.Errorf("%w: %s %s: element %d: %s", ErrInvalidFilter, quoteField(field), f.opName(), i, msg)
		if mixed {
			f.err = fmt.Errorf("%w: %w", f.err, ErrTypeMismatch)
		}
	}
	return f
}

// checkInList enforces that IN lists hold scalars of one kind (int and float
// mix, being numbers), so a document can never match one element and
// mismatch another. It returns the offending index, a message, and whether
// the problem is a mix of kinds (a type mismatch).
func checkInList(vals []Value) (i int, msg string, mixed bool) {
	for i, v := range vals {
		if v.kind == KindStrings {
			return i, "IN lists hold scalars (string, int, float, bool), not lists; use CONTAINS for list fields", false
		}
		if i > 0 && !compatible(vals[0].kind, v.kind) {
			return i, fmt.Sprintf("list mixes %s and %s values", vals[0].kind, v.kind), true
		}
	}
	return 0, "", false
}

func (f *inFilter) opName() string {
	if f.neg {
		return "NOT IN"
	}
	return "IN"
}

// In matches documents whose field equals one of vs (by the rules of Eq).
// The values must be scalars of one kind (ints and floats may mix). An
// empty list matches nothing. A missing field does not match.
func In(field string, vs ...any) Filter { return newIn(field, false, vs) }

// NotIn is exactly Not(In(field, vs...)): it matches documents lacking the
// field.
func NotIn(field string, vs ...any) Filter { return newIn(field, true, vs) }

func (f *inFilter) Match(md Metadata) (bool, error) {
	if f.err != nil {
		return false, f.err
	}
	v, ok := md[f.field]
	if !ok || len(f.vals) == 0 {
		return f.neg, nil
	}
	if !compatible(v.kind, f.vals[0].kind) {
		return false, &TypeError{Field: f.field, Op: f.opName(), Stored: v.kind, Literal: f.vals[0]}
	}
	for i := range f.vals {
		if equalValues(v, f.vals[i]) {
			return !f.neg, nil
		}
	}
	return f.neg, nil
}

func (f *inFilter) String() string {
	var b strings.Builder
	writeField(&b, f.field)
	b.WriteByte(' ')
	b.WriteString(f.opName())
	b.WriteString(" [")
	for i, v := range f.vals {
		if i > 0 {
			b.WriteByte(',')
		}
		v.appendLiteral(&b)
	}
	b.WriteByte(']')
	return b.String()
}

// existsFilter is EXISTS field.
type existsFilter struct {
	field string
	err   error
}

// Exists matches documents that have the field, whatever its kind.
func Exists(field string) Filter { return &existsFilter{field: field, err: checkField(field)} }

func (f *existsFilter) Match(md Metadata) (bool, error) {
	if f.err != nil {
		return false, f.err
	}
	_, ok := md[f.field]
	return ok, nil
}

func (f *existsFilter) String() string {
	var b strings.Builder
	b.WriteString("EXISTS ")
	writeField(&b, f.field)
	return b.String()
}

// containsFilter is field CONTAINS "s".
type containsFilter struct {
	field string
	val   string
	err   error
}

// Contains matches documents whose field is a list of strings (KindStrings)
// holding v. A missing field does not match; a field of any other kind is a
// type mismatch (Contains is not a substring test).
func Contains(field string, v string) Filter {
	f := &containsFilter{field: field, val: v, err: checkField(field)}
	if f.err == nil && !utf8.ValidString(v) {
		f.err = fmt.Errorf("%w: %s CONTAINS: literal is not valid UTF-8", ErrInvalidFilter, quoteField(field))
	}
	return f
}

func (f *containsFilter) Match(md Metadata) (bool, error) {
	if f.err != nil {
		return false, f.err
	}
	v, ok := md[f.field]
	if !ok {
		return false, nil
	}
	if v.kind != KindStrings {
		return false, &TypeError{Field: f.field, Op: "CONTAINS", Stored: v.kind, Literal: String(f.val)}
	}
	return slices.Contains(v.ss, f.val), nil
}

func (f *containsFilter) String() string {
	var b strings.Builder
	writeField(&b, f.field)
	b.WriteString(" CONTAINS ")
	quoteTo(&b, f.val, '"')
	return b.String()
}

// andFilter and orFilter hold two or more operands (the constructors
// flatten nesting of the same operator and unwrap single operands).
type andFilter struct {
	fs  []Filter
	err error
}

type orFilter struct {
	fs  []Filter
	err error
}

// And matches when every operand matches. Evaluation is strict: every
// operand is evaluated even after one returned false, and the first error
// in operand order is returned. That makes errors independent of data
// order and of operand order: `a AND b` fails on a document exactly when
// `b AND a` does. And with one operand returns that operand; with none (or
// a nil operand) it is invalid.
func And(fs ...Filter) Filter {
	out, err := flatten("AND", fs, func(f Filter) []Filter {
		if a, ok := f.(*andFilter); ok && a.err == nil {
			return a.fs
		}
		return nil
	})
	if err == nil && len(out) == 1 {
		return out[0]
	}
	return &andFilter{fs: out, err: err}
}

// Or matches when at least one operand matches. Like And it evaluates every
// operand and returns the first error, so a type mismatch is reported even
// if another operand already matched.
func Or(fs ...Filter) Filter {
	out, err := flatten("OR", fs, func(f Filter) []Filter {
		if o, ok := f.(*orFilter); ok && o.err == nil {
			return o.fs
		}
		return nil
	})
	if err == nil && len(out) == 1 {
		return out[0]
	}
	return &orFilter{fs: out, err: err}
}

func flatten(name string, fs []Filter, inner func(Filter) []Filter) ([]Filter, error) {
	if len(fs) == 0 {
		return nil, fmt.Errorf("%w: %s needs at least one operand (pass a nil Filter to match everything)", ErrInvalidFilter, name)
	}
	out := make([]Filter, 0, len(fs))
	for i, f := range fs {
		if f == nil {
			return nil, fmt.Errorf("%w: operand %d of %s is nil", ErrInvalidFilter, i, name)
		}
		if sub := inner(f); sub != nil {
			out = append(out, sub...)
		} else {
			out = append(out, f)
		}
	}
	return out, nil
}

func (a *andFilter) Match(md Metadata) (bool, error) {
	if a.err != nil {
		return false, a.err
	}
	res := true
	for _, f := range a.fs {
		ok, err := f.Match(md)
		if err != nil {
			return false, err
		}
		res = res && ok
	}
	return res, nil
}

func (o *orFilter) Match(md Metadata) (bool, error) {
	if o.err != nil {
		return false, o.err
	}
	res := false
	for _, f := range o.fs {
		ok, err := f.Match(md)
		if err != nil {
			return false, err
		}
		res = res || ok
	}
	return res, nil
}

func (a *andFilter) String() string {
	if a.err != nil {
		return "<invalid AND>"
	}
	var b strings.Builder
	for i, f := range a.fs {
		if i > 0 {
			b.WriteString(" AND ")
		}
		writeOperand(&b, f, needsParensInAnd(f))
	}
	return b.String()
}

func (o *orFilter) String() string {
	if o.err != nil {
		return "<invalid OR>"
	}
	var b strings.Builder
	for i, f := range o.fs {
		if i > 0 {
			b.WriteString(" OR ")
		}
		writeOperand(&b, f, isForeign(f))
	}
	return b.String()
}

// notFilter is NOT f.
type notFilter struct {
	f   Filter
	err error
}

// Not inverts f. Errors pass through unchanged: NOT of a type mismatch is
// still a type mismatch.
func Not(f Filter) Filter {
	if f == nil {
		return &notFilter{err: fmt.Errorf("%w: operand of NOT is nil", ErrInvalidFilter)}
	}
	return &notFilter{f: f}
}

func (n *notFilter) Match(md Metadata) (bool, error) {
	if n.err != nil {
		return false, n.err
	}
	ok, err := n.f.Match(md)
	if err != nil {
		return false, err
	}
	return !ok, nil
}

func (n *notFilter) String() string {
	if n.err != nil {
		return "<invalid NOT>"
	}
	var b strings.Builder
	b.WriteString("NOT ")
	writeOperand(&b, n.f, needsParensInNot(n.f))
	return b.String()
}

func isForeign(f Filter) bool {
	switch f.(type) {
	case *cmpFilter, *inFilter, *existsFilter, *containsFilter, *andFilter, *orFilter, *notFilter:
		return false
	}
	return true
}

func needsParensInAnd(f Filter) bool {
	_, isOr := f.(*orFilter)
	return isOr || isForeign(f)
}

func needsParensInNot(f Filter) bool {
	switch f.(type) {
	case *andFilter, *orFilter:
		return true
	}
	return isForeign(f)
}

func writeOperand(b *strings.Builder, f Filter, parens bool) {
	if parens {
		b.WriteByte('(')
	}
	b.WriteString(f.String())
	if parens {
		b.WriteByte(')')
	}
}

// compatible reports whether a stored kind may be compared with a literal
// kind.
func compatible(stored, lit Kind) bool {
	return stored == lit || (stored.numeric() && lit.numeric())
}

// equalValues compares two compatible values; ints and floats by numeric
// value.
func equalValues(a, b Value) bool {
	if a.kind != b.kind {
		r, ok := compareOrdered(a, b)
		return ok && r == 0
	}
	switch a.kind {
	case KindString:
		return a.s == b.s
	case KindInt, KindBool:
		return a.n == b.n
	case KindFloat:
		return a.f == b.f
	case KindStrings:
		return slices.Equal(a.ss, b.ss)
	}
	return false
}

// compareOrdered orders two compatible strings or numbers. ok is false when
// a NaN is involved (possible only for a stored value).
func compareOrdered(a, b Value) (r int, ok bool) {
	switch {
	case a.kind == KindString:
		return strings.Compare(a.s, b.s), true
	case a.kind == KindInt && b.kind == KindInt:
		return cmp.Compare(a.n, b.n), true
	case a.kind == KindFloat && b.kind == KindFloat:
		if math.IsNaN(a.f) || math.IsNaN(b.f) {
			return 0, false
		}
		return cmp.Compare(a.f, b.f), true
	case a.kind == KindInt && b.kind == KindFloat:
		if math.IsNaN(b.f) {
			return 0, false
		}
		return cmpIntFloat(a.n, b.f), true
	case a.kind == KindFloat && b.kind == KindInt:
		if math.IsNaN(a.f) {
			return 0, false
		}
		return -cmpIntFloat(b.n, a.f), true
	}
	return 0, false
}

// cmpIntFloat compares an int64 with a non-NaN float64 exactly. Converting
// the int to float64 would round above 2^53 and make, e.g.,
// 9007199254740993 equal 9007199254740992.0.
func cmpIntFloat(i int64, f float64) int {
	if f >= 0x1p63 {
		return -1
	}
	if f < -0x1p63 {
		return 1
	}
	t := math.Trunc(f) // now in [-2^63, 2^63): exactly representable as int64
	if c := cmp.Compare(i, int64(t)); c != 0 {
		return c
	}
	switch frac := f - t; {
	case frac > 0:
		return -1
	case frac < 0:
		return 1
	}
	return 0
}

func checkField(field string) error {
	if field == "" {
		return fmt.Errorf("%w: empty field name", ErrInvalidFilter)
	}
	if !utf8.ValidString(field) {
		return fmt.Errorf("%w: field name %q is not valid UTF-8", ErrInvalidFilter, field)
	}
	return nil
}

// quoteField renders a field name for error messages and String: plain if
// it lexes as an identifier, else in backticks.
func quoteField(field string) string {
	var b strings.Builder
	writeField(&b, field)
	return b.String()
}

func writeField(b *strings.Builder, field string) {
	if isPlainIdent(field) {
		b.WriteString(field)
		return
	}
	quoteTo(b, field, '`')
}

// isPlainIdent reports whether s can be written without backticks: it has
// identifier syntax and is not a keyword.
func isPlainIdent(s string) bool {
	if s == "" || !isIdentStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isIdentChar(s[i]) {
			return false
		}
	}
	_, kw := keywordOf(s)
	return !kw
}

// Validate reports the first problem of a filter built programmatically:
// an invalid field name or literal, a nil or missing operand, nesting
// deeper than MaxDepth. The errors wrap ErrInvalidFilter (plus
// ErrUnsupportedType, ErrInvalidValue or ErrTypeMismatch where apt).
// Filters returned by Parse always validate. A nil Filter is an error too;
// callers that treat nil as "no filter" should check for it first.
func Validate(f Filter) error {
	if f == nil {
		return fmt.Errorf("%w: nil filter", ErrInvalidFilter)
	}
	if err := validate(f); err != nil {
		return err
	}
	if d := depth(f); d > MaxDepth {
		return fmt.Errorf("%w: filter nests %d levels deep; the limit is %d", ErrInvalidFilter, d, MaxDepth)
	}
	return nil
}

// validate returns the first construction error found in f, in operand
// order.
func validate(f Filter) error {
	switch t := f.(type) {
	case *cmpFilter:
		return t.err
	case *inFilter:
		return t.err
	case *existsFilter:
		return t.err
	case *containsFilter:
		return t.err
	case *andFilter:
		return validateAll(t.fs, t.err)
	case *orFilter:
		return validateAll(t.fs, t.err)
	case *notFilter:
		if t.err != nil {
			return t.err
		}
		return validate(t.f)
	}
	if v, ok := f.(interface{ Validate() error }); ok {
		return v.Validate()
	}
	return nil
}

func validateAll(fs []Filter, err error) error {
	if err != nil {
		return err
	}
	for _, f := range fs {
		if err := validate(f); err != nil {
			return err
		}
	}
	return nil
}

// depth measures nesting the way the parser counts it on f.String(): one
// level per NOT and per pair of parentheses the printer emits. Measuring
// the printed form (rather than the tree) keeps Validate and Parse in
// agreement, so a filter that validates can always be re-parsed.
func depth(f Filter) int {
	switch t := f.(type) {
	case *andFilter:
		d := 0
		for _, c := range t.fs {
			cd := depth(c)
			if needsParensInAnd(c) {
				cd++
			}
			d = max(d, cd)
		}
		return d
	case *orFilter:
		d := 0
		for _, c := range t.fs {
			cd := depth(c)
			if isForeign(c) {
				cd++
			}
			d = max(d, cd)
		}
		return d
	case *notFilter:
		if t.f == nil {
			return 1
		}
		d := 1 + depth(t.f)
		if needsParensInNot(t.f) {
			d++
		}
		return d
	}
	return 0
}

// Fields returns the sorted, de-duplicated names of the fields f refers to
// (including under NOT). A foreign Filter contributes the result of its
// `Fields() []string` method if it has one, nothing otherwise.
func Fields(f Filter) []string {
	set := map[string]struct{}{}
	collectFields(f, set)
	return slices.Sorted(maps.Keys(set))
}

func collectFields(f Filter, set map[string]struct{}) {
	switch t := f.(type) {
	case nil:
	case *cmpFilter:
		set[t.field] = struct{}{}
	case *inFilter:
		set[t.field] = struct{}{}
	case *existsFilter:
		set[t.field] = struct{}{}
	case *containsFilter:
		set[t.field] = struct{}{}
	case *andFilter:
		for _, c := range t.fs {
			collectFields(c, set)
		}
	case *orFilter:
		for _, c := range t.fs {
			collectFields(c, set)
		}
	case *notFilter:
		collectFields(t.f, set)
	default:
		if v, ok := f.(interface{ Fields() []string }); ok {
			for _, name := range v.Fields() {
				set[name] = struct{}{}
			}
		}
	}
}
