package main

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Everything vecbolt prints for a human comes partly from the file: IDs,
// metadata keys and values, texts, collection and model names. A document
// imported from anywhere may hold terminal escape sequences (which can
// recolor, retitle or rewrite the screen), newlines (which forge extra
// output lines) or bidi overrides (which reorder what is shown), so none of
// these reach the terminal raw. Ordinary Unicode text stays readable.

// unsafeRune reports whether r must not be printed raw: C0 and C1 control
// characters (ESC, CSI, newlines, tabs...), DEL, the line and paragraph
// separators, and the bidi controls that reorder displayed text.
func unsafeRune(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, // ALM, LRM, RLM
		r >= 0x202a && r <= 0x202e, // LRE, RLE, PDF, LRO, RLO
		r >= 0x2066 && r <= 0x2069, // LRI, RLI, FSI, PDI
		r == 0x2028, r == 0x2029:   // line and paragraph separators
		return true
	}
	return false
}

// needsEscape reports whether s holds an unsafe rune or invalid UTF-8.
func needsEscape(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return true
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || unsafeRune(r) {
			return true
		}
		i += n
	}
	return false
}

// escapeText returns s with each unsafe rune written as an escape (\n, \t,
// \r, \x1b, \u202e; an invalid byte as \xff) and everything else as it is.
// It is for running text, where a backslash needs no escaping because
// nothing parses the output back.
func escapeText(s string) string {
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x80 && unsafeRune(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// safeName returns an ID, key or name as it is when that is unambiguous and
// safe, and otherwise Go-quoted (escapes and all), so that a value that
// needs escaping can never be mistaken for another one.
func safeName(s string) string {
	if s == "" || s[0] == '"' || needsEscape(s) {
		return strconv.Quote(s)
	}
	return s
}

// maxErrorLine bounds an error line on stderr; db cuts long IDs and lists
// in its errors already, this catches the rest (paths, parser messages).
const maxErrorLine = 4096

// capLine cuts s to about max bytes on a rune boundary, saying how much was
// left out.
func capLine(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d more bytes)", s[:cut], len(s)-cut)
}

// jsonSafe rewrites the runes that encoding/json leaves raw but a terminal
// may act on (DEL, C1 controls, bidi controls) as \u escapes. JSON text
// holds non-ASCII and control bytes only inside strings, where \uXXXX
// means the same rune, so the decoded value is unchanged.
func jsonSafe(b []byte) []byte {
	var out []byte
	last := 0
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r >= 0x7f && unsafeRune(r) {
			if out == nil {
				out = make([]byte, 0, len(b)+16)
			}
			out = append(out, b[last:i]...)
			out = fmt.Appendf(out, `\u%04x`, r)
			last = i + n
		}
		i += n
	}
	if out == nil {
		return b
	}
	return append(out, b[last:]...)
}
