package query

// Check type-checks f against the kinds a collection's fields hold, before
// any document is visited, so that a caller who knows every stored value's
// kind can tell a mistyped filter from a well-typed one without depending
// on which documents a search happens to read.
//
// kindOf returns the kind every stored value of field has: KindInt or
// KindFloat for a field of numbers (either stands for both, as in Match),
// or 0 when no value of the field exists yet, which any literal passes
// (the comparison then behaves as on a missing field). A non-nil error from
// kindOf fails the check and is returned as it is; a caller uses it to
// refuse comparisons on a field it cannot type (one whose values have
// several kinds, say). kindOf is called only for comparisons whose outcome
// depends on the stored kind: EXISTS never asks.
//
// Check returns the construction error of an invalid filter (as Validate
// does), else the first comparison in operand order whose literal the
// field's kind cannot be compared with, as a *TypeError (wrapping
// ErrTypeMismatch) with Stored set to kindOf's answer. An empty IN or NOT
// IN list compares with nothing and passes. A foreign Filter is checked
// through its `Check(func(string) (Kind, error)) error` method when it has
// one, and passes otherwise.
//
// The guarantee: when Check returns nil and every document's value of each
// field has the kind kindOf gives for it, Match returns no error on any
// document. Conversely, because And and Or evaluate every operand, when
// Check returns a *TypeError, Match fails on every document that holds
// every field the filter names with those kinds.
func Check(f Filter, kindOf func(field string) (Kind, error)) error {
	if err := Validate(f); err != nil {
		return err
	}
	return check(f, kindOf)
}

func check(f Filter, kindOf func(string) (Kind, error)) error {
	switch t := f.(type) {
	case *cmpFilter:
		return checkKind(t.field, t.op.String(), t.val, kindOf)
	case *inFilter:
		if len(t.vals) == 0 {
			return nil
		}
		return checkKind(t.field, t.opName(), t.vals[0], kindOf)
	case *containsFilter:
		k, err := kindOf(t.field)
		if err != nil || k == 0 || k == KindStrings {
			return err
		}
		return &TypeError{Field: t.field, Op: "CONTAINS", Stored: k, Literal: String(t.val)}
	case *existsFilter:
		return nil
	case *andFilter:
		return checkAll(t.fs, kindOf)
	case *orFilter:
		return checkAll(t.fs, kindOf)
	case *notFilter:
		return check(t.f, kindOf)
	}
	if c, ok := f.(interface {
		Check(func(string) (Kind, error)) error
	}); ok {
		return c.Check(kindOf)
	}
	return nil
}

func checkAll(fs []Filter, kindOf func(string) (Kind, error)) error {
	for _, f := range fs {
		if err := check(f, kindOf); err != nil {
			return err
		}
	}
	return nil
}

func checkKind(field, op string, lit Value, kindOf func(string) (Kind, error)) error {
	k, err := kindOf(field)
	if err != nil || k == 0 || compatible(k, lit.kind) {
		return err
	}
	return &TypeError{Field: field, Op: op, Stored: k, Literal: lit}
}
