package evalsets

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ManPage is one manual page of Debian's manpages and manpages-dev
// packages, rendered to plain text: the long-document retrieval set.
type ManPage struct {
	// Name is the page, e.g. "open(2)".
	Name string
	// Query is the one-line description of the NAME section ("open and
	// possibly create a file").
	Query string
	// Text is the page without its NAME section: section headings on lines
	// of their own, paragraphs separated by blank lines. The NAME line is
	// left out because it is the query: with it, every page would contain
	// its query word for word.
	Text string
	// Dev reports whether the page is in the development split
	// (sha1(Name) % 10 == 1), the only pages any setting may be tuned on;
	// the others are the evaluation split.
	Dev bool
}

// LoadManPages reads every page under root/usr/share/man/man*/ (gzip-
// compressed roff, as the packages install them), skipping aliases
// (symbolic links, and pages that only include another with ".so"), pages without a NAME description, and pages
// whose description another page shares (their query would have two right
// answers). Pages come back sorted by name.
func LoadManPages(root string) ([]ManPage, error) {
	files, err := filepath.Glob(filepath.Join(root, "usr", "share", "man", "man*", "*.gz"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("evalsets: no man pages under %s/usr/share/man", root)
	}
	var pages []ManPage
	byQuery := map[string]int{}
	for _, f := range files {
		// Aliases (openat.2 for open.2) are symbolic links in the
		// packages: the same page under another name, not another page.
		if st, err := os.Lstat(f); err != nil || !st.Mode().IsRegular() {
			continue
		}
		src, err := readGzip(f)
		if err != nil {
			return nil, err
		}
		if strings.HasPrefix(strings.TrimSpace(src), ".so ") {
			continue
		}
		query, text := RenderManPage(src)
		if query == "" || strings.TrimSpace(text) == "" {
			continue
		}
		base := strings.TrimSuffix(filepath.Base(f), ".gz")
		dot := strings.LastIndexByte(base, '.')
		if dot <= 0 {
			continue
		}
		name := base[:dot] + "(" + base[dot+1:] + ")"
		byQuery[strings.ToLower(query)]++
		pages = append(pages, ManPage{Name: name, Query: query, Text: text, Dev: sha1Mod10(name) == 1})
	}
	kept := pages[:0]
	for _, p := range pages {
		if byQuery[strings.ToLower(p.Query)] == 1 {
			kept = append(kept, p)
		}
	}
	sort.Slice(kept, func(i, j int) bool { return kept[i].Name < kept[j].Name })
	return kept, nil
}

func readGzip(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		return "", fmt.Errorf("evalsets: %s: %w", path, err)
	}
	b, err := io.ReadAll(io.LimitReader(z, 16<<20))
	if err != nil {
		return "", fmt.Errorf("evalsets: %s: %w", path, err)
	}
	return string(b), nil
}

// RenderManPage renders roff source written with the man(7) macros to plain
// text, returning the NAME section's description and the rest of the page.
// It is not troff: it keeps the words and the paragraph structure and drops
// formatting, which is all retrieval needs. Fonts, sizes and most requests
// vanish; alternating-font macros (.BR, .IR, ...) join their arguments as
// troff does; .SH and .SS become heading lines; tbl tables keep their cells.
func RenderManPage(src string) (query, text string) {
	var out strings.Builder
	var nameSec strings.Builder
	section := ""
	para := func() {
		s := out.String()
		if s != "" && !strings.HasSuffix(s, "\n\n") {
			if !strings.HasSuffix(s, "\n") {
				out.WriteByte('\n')
			}
			out.WriteByte('\n')
		}
	}
	emit := func(s string) {
		s = strings.TrimSpace(s)
		if s == "" {
			return
		}
		if section == "NAME" {
			nameSec.WriteString(s)
			nameSec.WriteByte(' ')
			return
		}
		out.WriteString(s)
		out.WriteByte('\n')
	}
	inTable, tableFormat := false, false
	sc := bufio.NewScanner(strings.NewReader(src))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var cont string
	for sc.Scan() {
		line := cont + sc.Text()
		cont = ""
		if strings.HasSuffix(line, `\`) && !strings.HasSuffix(line, `\\`) {
			cont = line[:len(line)-1]
			continue
		}
		if inTable {
			switch {
			case strings.HasPrefix(line, ".TE"):
				inTable = false
				para()
			case tableFormat:
				// Options and format lines end with a period.
				if strings.HasSuffix(strings.TrimSpace(line), ".") {
					tableFormat = false
				}
			case strings.HasPrefix(line, ".") || line == "T{" || line == "T}":
			default:
				line = strings.NewReplacer("T{", " ", "T}", " ", "\t", " ").Replace(line)
				emit(unescape(line))
			}
			continue
		}
		if len(line) == 0 || (line[0] != '.' && line[0] != '\'') {
			emit(unescape(line))
			continue
		}
		req, args := splitRequest(line[1:])
		switch req {
		case "SH", "SS":
			title := strings.ToUpper(strings.TrimSpace(unescape(strings.Join(args, " "))))
			if req == "SS" {
				title = strings.TrimSpace(unescape(strings.Join(args, " ")))
			}
			if req == "SH" {
				section = title
			}
			if section != "NAME" {
				para()
				emit(title)
				para()
			}
		case "B", "I", "SM", "SB":
			emit(unescape(strings.Join(args, " ")))
		case "BR", "RB", "IR", "RI", "BI", "IB":
			emit(unescape(strings.Join(args, "")))
		case "PP", "LP", "P", "sp", "HP", "EX", "EE", "RS", "RE", "nf", "fi", "TH":
			if req != "TH" {
				para()
			}
		case "TP":
			para()
		case "IP":
			para()
			if len(args) > 0 {
				emit(unescape(args[0]))
			}
		case "TS":
			inTable, tableFormat = true, true
			para()
		case "UR", "MT":
			if len(args) > 0 {
				emit(unescape(args[0]))
			}
		}
		// Every other request (comments, .de, .ds, .in, .ft, .UE, ...)
		// carries no text.
	}
	query = strings.TrimSpace(nameSec.String())
	if _, d, ok := strings.Cut(query, " - "); ok {
		query = strings.TrimSpace(d)
	} else {
		query = ""
	}
	return query, strings.TrimSpace(out.String())
}

// splitRequest splits a request line (without its leading dot) into the
// request name and its arguments, honouring double quotes.
func splitRequest(s string) (string, []string) {
	s = strings.TrimLeft(s, " \t")
	if strings.HasPrefix(s, `\"`) {
		return `\"`, nil
	}
	end := strings.IndexAny(s, " \t")
	if end < 0 {
		return s, nil
	}
	req, rest := s[:end], s[end:]
	var args []string
	for {
		rest = strings.TrimLeft(rest, " \t")
		if rest == "" || strings.HasPrefix(rest, `\"`) {
			return req, args
		}
		if rest[0] == '"' {
			var b strings.Builder
			i := 1
			for ; i < len(rest); i++ {
				if rest[i] == '"' {
					if i+1 < len(rest) && rest[i+1] == '"' {
						b.WriteByte('"')
						i++
						continue
					}
					break
				}
				b.WriteByte(rest[i])
			}
			args = append(args, b.String())
			rest = rest[min(i+1, len(rest)):]
			continue
		}
		end := strings.IndexAny(rest, " \t")
		if end < 0 {
			end = len(rest)
		}
		args = append(args, rest[:end])
		rest = rest[end:]
	}
}

// glyphs maps the troff special characters man pages use to text.
var glyphs = map[string]string{
	"aq": "'", "dq": `"`, "em": "—", "en": "–", "bu": "•", "co": "©", "rg": "®",
	"lq": "“", "rq": "”", "oq": "‘", "cq": "’", "ga": "`", "aa": "´", "ti": "~",
	"ha": "^", "rs": `\`, "mi": "-", "hy": "-", "pl": "+", "mu": "×", "di": "÷",
	"<=": "≤", ">=": "≥", "!=": "≠", "->": "→", "<-": "←", "de": "°", "sc": "§",
	"ba": "|", "or": "|", "lh": "☜", "rh": "☞", "tm": "™", "Do": "$", "at": "@",
	"sh": "#", "fo": "«", "fc": "»", "dg": "†", "pd": "∂", "*m": "μ",
}

// unescape turns a text line's troff escapes into text.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch e := s[i]; e {
		case '"', '#':
			return b.String() // a comment runs to the end of the line
		case 'f', 'F', 's', 'n', '*', 'm', 'g', 'k', 'V', 'Y':
			// Font, size, register, string: an argument of one
			// character, (xx or [name]; its value is not text.
			j, _ := escapeArg(s, i+1, e == 's')
			i = j - 1
		case '(', '[':
			j, name := escapeArg(s, i, false)
			if g, ok := glyphs[name]; ok {
				b.WriteString(g)
			} else if strings.HasPrefix(name, "u") && len(name) > 1 {
				var r rune
				if _, err := fmt.Sscanf(name[1:], "%X", &r); err == nil {
					b.WriteString(codePoint(r))
				}
			}
			i = j - 1
		case 'e', '\\':
			b.WriteByte('\\')
		case '-':
			b.WriteByte('-')
		case '~', ' ', '0':
			b.WriteByte(' ')
		case '&', 'c', '|', '^', '%', ')', ':', '/', ',':
		case 'h', 'v', 'w', 'o', 'l', 'L', 'D', 'b', 'x', 'X', 'A', 'B', 'C', 'N', 'R', 'Z':
			// Escapes with a delimited argument: skip it.
			// The delimiter is a character, not a byte: matching the
			// lead byte of a multi-byte delimiter elsewhere would end the
			// skip inside a UTF-8 sequence and leave its tail as text.
			if i+1 < len(s) {
				_, n := utf8.DecodeRuneInString(s[i+1:])
				d := s[i+1 : i+1+n]
				if end := strings.Index(s[i+1+n:], d); end >= 0 {
					i += n + end + len(d)
				}
			}
		default:
			b.WriteByte(e)
		}
	}
	return b.String()
}

// codePoint is the text of a \[uXXXX] escape. A control character is not
// text: one that is white space (\[u000A], \[u0009]) separates words as a
// space, any other vanishes. Written as it is, \[u000A] put a line break
// inside the NAME line and so inside the one-line query (FuzzRenderManPage).
// A value that is no character (a surrogate, beyond U+10FFFF, negative)
// becomes U+FFFD, as WriteRune makes it.
func codePoint(r rune) string {
	switch {
	case !unicode.IsControl(r):
		return string(r)
	case unicode.IsSpace(r):
		return " "
	}
	return ""
}

// escapeArg reads the argument of an escape starting at s[i]: one
// character, "(xx" or "[name]"; sized reports an escape (\s) whose argument
// may carry a sign and two digits. It returns the index after the argument
// and the argument.
func escapeArg(s string, i int, sized bool) (int, string) {
	if i >= len(s) {
		return i, ""
	}
	if sized {
		if s[i] == '+' || s[i] == '-' {
			i++
		}
		j := i
		for j < len(s) && j < i+2 && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j > i {
			return j, s[i:j]
		}
		if i >= len(s) {
			return i, "" // a sign and nothing after it
		}
	}
	switch s[i] {
	case '(':
		// Two characters, not bytes: cutting inside a UTF-8 sequence
		// would leave its tail in the text.
		j := i + 1
		for range 2 {
			if j >= len(s) {
				return len(s), ""
			}
			_, n := utf8.DecodeRuneInString(s[j:])
			j += n
		}
		return j, s[i+1 : j]
	case '[':
		if end := strings.IndexByte(s[i:], ']'); end >= 0 {
			return i + end + 1, s[i+1 : i+end]
		}
		return len(s), ""
	}
	_, n := utf8.DecodeRuneInString(s[i:])
	return i + n, s[i : i+n]
}
