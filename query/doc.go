// Package query holds vecbolt's document metadata model and the filters
// evaluated against it during search: typed values (Value, Metadata),
// filter expressions (Eq, In, Contains, And, ...) and a text syntax with a
// parser (Parse) for the CLI's --where flag.
//
// # Values
//
// A metadata value has one of five kinds: string, int (int64), float
// (float64, always finite), bool, or strings (an ordered list of strings).
// Values are immutable. ValueOf converts ordinary Go values and rejects
// anything else with ErrUnsupportedType (see ValueOf for the list). Value
// and Metadata implement JSON (un)marshalling that keeps kinds: a JSON
// number written without '.' or exponent decodes as an int, so
// {"year": 2020} stores an int and 2.0 stays a float.
//
// # Matching rules
//
// A filter compares a field with a literal. The rules, chosen so that a
// mistyped filter fails loudly rather than silently matching nothing:
//
//   - Missing field: Eq, Gt, Gte, Lt, Lte, In and Contains are false; Ne,
//     NotIn and Not(...) of those are true. Ne(f, v) is exactly
//     Not(Eq(f, v)) and NotIn is exactly Not(In), so "!=" also matches
//     documents lacking the field; combine with Exists to exclude them.
//     Exists tests presence, whatever the kind. A missing field is never an
//     error.
//   - Kinds: a present field whose kind differs from the literal's is an
//     error wrapping ErrTypeMismatch (a *TypeError naming the field, the
//     stored kind and the literal), never a silent false. int and float are
//     both numbers and compare numerically with each other, exactly (no
//     rounding of large int64s). All other kinds must match exactly.
//   - Ordering (> >= < <=): numbers numerically, strings by byte order
//     (UTF-8 code point order, no locale). Bools and lists are not ordered:
//     such a literal makes the filter invalid; such a stored value is a
//     type mismatch.
//   - Lists: Contains(f, s) tests membership in a strings field; on any
//     other kind it is a type mismatch (it is not a substring test). Eq and
//     Ne on a list field compare with a list literal as whole ordered lists;
//     comparing a list field with a single string is a type mismatch whose
//     message points to CONTAINS.
//   - In/NotIn literals must be scalars of one kind (int and float may mix);
//     an empty list matches nothing (NotIn: everything).
//   - And/Or are strict: every operand is evaluated and the first error in
//     operand order is returned, even when the result was already decided.
//     So whether a filter errors on a document does not depend on operand
//     order or short-circuiting: `a AND b` fails exactly when `b AND a`
//     does. The cost is evaluating every clause, which is cheap (Match does
//     not allocate on success). Not passes errors through.
//
// A caller that knows the kind of every stored value of each field (a
// vecbolt collection records them) checks a filter's kinds once with Check
// instead of meeting mismatches document by document.
//
// Constructors never fail. A bad field name or literal (empty name, a Go
// value ValueOf rejects, NaN, ordering on a bool, ...) makes the filter
// invalid: Validate reports it before use, and Match returns the same error.
// Filters are immutable and safe for concurrent use.
//
// # Text syntax
//
//	expr      = or
//	or        = and { OR and }
//	and       = unary { AND unary }
//	unary     = NOT unary | primary
//	primary   = "(" or ")" | EXISTS field | field predicate
//	predicate = cmpop value
//	          | [NOT] IN "[" [ scalar { "," scalar } ] "]"
//	          | [NOT] CONTAINS string
//	          | [NOT] EXISTS
//	cmpop     = "=" | "==" | "!=" | "<>" | ">" | ">=" | "<" | "<="
//	value     = scalar | "[" [ string { "," string } ] "]"
//	scalar    = string | integer | float | TRUE | FALSE
//	field     = identifier | "`" quoted name "`"
//
// Example: lang = "en" AND year >= 2020 AND tags CONTAINS "go".
//
// Keywords are case-insensitive. Precedence is NOT over AND over OR.
// Identifiers match [A-Za-z_][A-Za-z0-9_.-]*; other names, and names that
// are keywords, go in backticks. Strings use double or single quotes with
// the JSON escapes plus \' and \` (\" \\ \/ \b \f \n \r \t \uXXXX, with
// surrogate pairs). Integers are decimal int64 (out of range is an error,
// not a silent float); a number with a '.' or an exponent is a float; NaN
// and Inf are rejected. Nesting of NOT and parentheses is limited to
// MaxDepth levels and input to MaxExprLen bytes, so hostile input cannot
// exhaust the stack. Errors are *SyntaxError with the byte offset of the
// problem and what was expected versus found.
//
// Filter.String prints the canonical form (single spaces, upper-case
// keywords, double-quoted strings, minimal parentheses), and Parse of it
// yields an equivalent filter for every valid filter built by this package
// (if the printed form fits in MaxExprLen).
//
// The parser is hand-written rather than generated or taken from a parser
// library: the grammar is a dozen lines, and writing it directly gives
// exact byte positions, error messages phrased for this syntax, no
// dependency, and a recursion depth we control.
package query
