package evalsets

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestRenderManPage(t *testing.T) {
	tests := []struct {
		name, src, query, text string
	}{
		{
			name:  "sections, fonts, escapes, paragraphs",
			src:   ".TH LS 1\n.SH NAME\nls \\- list directory contents\n.SH SYNOPSIS\n.B ls\n[\\fIOPTION\\fR]...\n.SH DESCRIPTION\nList information.\n.PP\nSecond \\(em para.\n",
			query: "list directory contents",
			text:  "SYNOPSIS\n\nls\n[OPTION]...\n\nDESCRIPTION\n\nList information.\n\nSecond — para.",
		},
		{
			name:  "no description in NAME; alternating fonts join",
			src:   ".SH NAME\nfoo\n.SH SEE ALSO\n.BR bar (1),\n.IR baz (3)\n",
			query: "",
			text:  "SEE ALSO\n\nbar(1),\nbaz(3)",
		},
		{
			name:  "tables keep their cells",
			src:   ".SH NAME\nx \\- y\n.SH DESCRIPTION\n.TS\nl l.\na\tb\nT{\nlong cell\nT}\tc\n.TE\nafter\n",
			query: "y",
			text:  "DESCRIPTION\n\na b\nlong cell\nc\n\nafter",
		},
		{
			name:  "continuation, subsection, list item, comment, URL",
			src:   ".SH NAME\nx \\- a \\\ncontinued\n.SH DESCRIPTION\n.SS Sub Section\n.IP \\(bu 2\nitem\n.\\\" comment\n.UR http://x.org\n.UE\n",
			query: "a continued",
			text:  "DESCRIPTION\n\nSub Section\n\n•\nitem\nhttp://x.org",
		},
		{name: "empty", src: "", query: "", text: ""},
		{
			// Regression (CI fuzzing): the lead byte of © matched
			// the second © and the skip ended inside it.
			name:  "multi-byte delimiter of a skipped escape",
			src:   ".SH NAME\nx \\- y\n.SH D\na\\h©x©b \\w©1m©c\n",
			query: "y",
			text:  "D\n\nab c",
		},
		{
			// Regression (fuzzing): \[u000A] wrote a line break into
			// the NAME line, so the one-line query spanned two lines.
			// White-space controls separate words; others vanish.
			name:  "control characters by code point",
			src:   ".SH NAME\nx \\- a\\[u000A]b\\[u0009]c\\[u0007]d \\[u00E9]\n.SH D\nt\\[uA]u\n",
			query: "a b cd é",
			text:  "D\n\nt u",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, text := RenderManPage(tt.src)
			if q != tt.query || text != tt.text {
				t.Errorf("RenderManPage:\n got %q\n     %q\nwant %q\n     %q", q, text, tt.query, tt.text)
			}
		})
	}
}

// RenderManPage takes any bytes (pages come from packages, not from us):
// it must not panic, and valid UTF-8 in gives valid UTF-8 out, trimmed,
// with a one-line query.
func FuzzRenderManPage(f *testing.F) {
	for _, s := range []string{
		".TH LS 1\n.SH NAME\nls \\- list\n.SH DESCRIPTION\n.B x\n\\fBbold\\fP \\(em \\*(lq\n",
		".TS\nl l.\na\tb\n.TE\n",
		".SH \"QUOTED TITLE\"\n.IP \\(bu\n.BR a b c\n\\\n",
		"\\s+2big\\s0 \\[u00E9] \\N'65' \\h'1m' \\\\",
		".de XX\n..\n'br\n.\\\" c\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		q, text := RenderManPage(src)
		if strings.Contains(q, "\n") {
			t.Errorf("query %q spans lines", q)
		}
		if strings.TrimSpace(text) != text || strings.TrimSpace(q) != q {
			t.Errorf("untrimmed output %q / %q", q, text)
		}
		if utf8.ValidString(src) && (!utf8.ValidString(q) || !utf8.ValidString(text)) {
			t.Errorf("valid UTF-8 in, invalid out: %q / %q", q, text)
		}
	})
}
