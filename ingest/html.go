package ingest

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// HTMLText returns the text of an HTML page with its tags stripped, and
// its title (the <title>, else the first <h1>). Scripts, styles and other
// non-text elements are dropped; block elements (paragraphs, headings,
// list items, table cells, line breaks) end a paragraph, so the chunker
// still finds paragraph boundaries; runs of white space inside a
// paragraph become one space, except inside <pre>. It uses the HTML5
// tokenizer of golang.org/x/net/html, which accepts any input, so a
// malformed page gives what text it has rather than an error.
func HTMLText(page string) (text, title string) {
	z := html.NewTokenizer(strings.NewReader(page))
	var b strings.Builder
	var para strings.Builder
	skip := 0        // depth inside script, style, ...
	pre := 0         // depth inside pre
	var in atom.Atom // title or h1 being read
	var heading strings.Builder
	flush := func() {
		p := strings.TrimSpace(para.String())
		para.Reset()
		if p == "" {
			return
		}
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString(p)
	}
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			flush()
			if title == "" {
				title = Title(b.String(), false)
			}
			return b.String(), cut(title)
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			start := tt == html.StartTagToken
			switch a {
			case atom.Script, atom.Style, atom.Noscript, atom.Template, atom.Svg, atom.Head:
				if a == atom.Head {
					break // the title is inside; its text is not body text
				}
				if tt == html.StartTagToken {
					skip++
				} else if tt == html.EndTagToken && skip > 0 {
					skip--
				}
				continue
			case atom.Pre:
				if start {
					flush()
					pre++
				} else if tt == html.EndTagToken && pre > 0 {
					flush()
					pre--
				}
				continue
			case atom.Title, atom.H1:
				if start && title == "" {
					in = a
					heading.Reset()
				} else if tt == html.EndTagToken && in == a {
					in = 0
					if t := strings.Join(strings.Fields(heading.String()), " "); t != "" {
						title = t
					}
				}
			}
			if isBlock(a) {
				flush()
			}
		case html.TextToken:
			if skip > 0 {
				continue
			}
			t := string(z.Text())
			if in != 0 {
				heading.WriteString(t)
			}
			if in == atom.Title {
				continue // the title is metadata, not body text
			}
			if pre > 0 {
				para.WriteString(t)
				continue
			}
			if f := strings.Fields(t); len(f) > 0 {
				if para.Len() > 0 && startsSpace(t) {
					para.WriteByte(' ')
				}
				para.WriteString(strings.Join(f, " "))
				if endsSpace(t) {
					para.WriteByte(' ')
				}
			} else if para.Len() > 0 && t != "" {
				para.WriteByte(' ')
			}
		}
	}
}

func startsSpace(s string) bool { return s != "" && strings.TrimLeft(s[:1], " \t\r\n\f") == "" }
func endsSpace(s string) bool   { return s != "" && strings.TrimLeft(s[len(s)-1:], " \t\r\n\f") == "" }

// isBlock says whether an element ends the paragraph before it.
func isBlock(a atom.Atom) bool {
	switch a {
	case atom.P, atom.Div, atom.Br, atom.Hr, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6,
		atom.Li, atom.Ul, atom.Ol, atom.Dl, atom.Dt, atom.Dd, atom.Table, atom.Tr, atom.Td, atom.Th,
		atom.Blockquote, atom.Section, atom.Article, atom.Header, atom.Footer, atom.Nav, atom.Aside,
		atom.Main, atom.Figure, atom.Figcaption, atom.Body, atom.Title:
		return true
	}
	return false
}
