package db

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Error messages quote what the caller passed (IDs, keys, names), and that
// can be large: a megabyte-long ID, or two hundred thousand missing IDs. A
// message stays readable and bounded: quoted strings are cut to
// maxQuotedBytes and lists to maxListedIDs entries, each saying how much was
// left out. The error values keep everything (DocumentError.ID,
// NotFoundError.IDs) for callers that need it.
const (
	maxQuotedBytes = 128
	maxListedIDs   = 10
)

// short formats a caller-supplied string in an error message: %q quotes
// it, %s and %v print it, both cut to maxQuotedBytes on a rune boundary
// followed by "… (N more bytes)".
type short string

// Format implements fmt.Formatter.
func (s short) Format(f fmt.State, verb rune) {
	head, rest := cut(string(s))
	if verb == 'q' {
		head = strconv.Quote(head)
	}
	_, _ = f.Write([]byte(head))
	if rest > 0 {
		fmt.Fprintf(f, "… (%d more bytes)", rest)
	}
}

// cut returns the first maxQuotedBytes of s, ending on a rune boundary,
// and how many bytes follow.
func cut(s string) (string, int) {
	if len(s) <= maxQuotedBytes {
		return s, 0
	}
	n := maxQuotedBytes
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	if n == 0 { // no rune start in reach: invalid UTF-8, cut anywhere
		n = maxQuotedBytes
	}
	return s[:n], len(s) - n
}

// quoteList quotes the first maxListedIDs strings, each cut as by short,
// and says how many more there are.
func quoteList(ss []string) string {
	n := min(len(ss), maxListedIDs)
	q := make([]string, n, n+1)
	for i, s := range ss[:n] {
		q[i] = fmt.Sprintf("%q", short(s))
	}
	if len(ss) > n {
		q = append(q, fmt.Sprintf("and %d more", len(ss)-n))
	}
	return strings.Join(q, ", ")
}
