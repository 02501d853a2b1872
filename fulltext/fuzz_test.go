package fulltext

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzAnalyzer: any text analyzes without panicking into valid terms, and
// analysis is deterministic.
func FuzzAnalyzer(f *testing.F) {
	for _, s := range []string{"", "Hello, World!", "Café naïve ÜBER straße", "don’t stop's", "東京 タワー", "a\x00b", "\xff\xfe", "3.14 x86_64 foo-bar", "ﬁnancial Ｆｕｌｌ"} {
		f.Add(s)
	}
	analyzers := []*Analyzer{}
	for _, c := range []Config{{}, {Language: LanguageNone}, {NoStemming: true}} {
		a, err := NewAnalyzer(c)
		if err != nil {
			f.Fatal(err)
		}
		analyzers = append(analyzers, a)
	}
	f.Fuzz(func(t *testing.T, text string) {
		for _, a := range analyzers {
			terms := a.terms(nil, text, nil)
			for _, term := range terms {
				if err := validTerm(term); err != nil {
					t.Fatalf("%q gave term %q: %v", text, term, err)
				}
				if utf8.ValidString(text) && !utf8.ValidString(term) {
					t.Fatalf("valid %q gave invalid term %q", text, term)
				}
			}
			cache := newStemCache()
			again := a.terms(nil, text, cache)
			again2 := a.terms(nil, text, cache) // from the cache this time
			if strings.Join(terms, "\x00") != strings.Join(again, "\x00") || strings.Join(again, "\x00") != strings.Join(again2, "\x00") {
				t.Fatalf("%q: %q, then %q, then %q", text, terms, again, again2)
			}
		}
	})
}

// FuzzDecodeBlock: corrupt blocks give errors, never panics; whatever
// decodes re-encodes to the same bytes.
func FuzzDecodeBlock(f *testing.F) {
	f.Add(appendBlock(nil, []posting{{1, 1, 1}}))
	f.Add(appendBlock(nil, []posting{{5, 2, 9}, {6, 1, 3}, {1000, 7, 7}}))
	var many []posting
	for i := range uint64(BlockSize) {
		many = append(many, posting{i * 3, uint32(i%5 + 1), uint32(i%5 + 1 + i)})
	}
	f.Add(appendBlock(nil, many))
	f.Add([]byte{})
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0, 1, 1, 1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		_, ps, err := decodeBlock(b, nil)
		if _, _, herr := decodeHeader(b); herr != nil && err == nil {
			t.Fatalf("header error %v but block decoded", herr)
		}
		if err != nil {
			return
		}
		if re := appendBlock(nil, ps); !bytes.Equal(re, b) {
			// Non-minimal varints decode too; the postings must still
			// round-trip.
			_, ps2, err := decodeBlock(re, nil)
			if err != nil || len(ps2) != len(ps) {
				t.Fatalf("re-encoding fails: %v", err)
			}
			for i := range ps {
				if ps[i] != ps2[i] {
					t.Fatalf("posting %d: %v then %v", i, ps[i], ps2[i])
				}
			}
		}
	})
}

// FuzzDecodeRecords: term records, forward records and statistics never
// panic on corrupt bytes and round-trip when they decode.
func FuzzDecodeRecords(f *testing.F) {
	f.Add(appendTermMeta(nil, termMeta{df: 3, maxTF: 2, minDL: 1}))
	f.Add(appendTermRecord(nil, termMeta{df: 3, maxTF: 2, minDL: 1}, []posting{{4, 1, 1}, {9, 2, 5}}))
	f.Add(appendTermRecord(nil, termMeta{df: 300, maxTF: 2, minDL: 1}, nil))
	f.Add(appendDocRecord(nil, docRecord{length: 3, terms: []termFreq{{"appl", 2}, {"pie", 1}}}))
	f.Add(appendStats(nil, stats{docs: 10, length: 99}))
	f.Add([]byte{5, 200, 1, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := decodeTermMeta(b); err == nil {
			if m2, err := decodeTermMeta(appendTermMeta(nil, m)); err != nil || m2 != m {
				t.Fatalf("term record round trip: %v %v", m2, err)
			}
		}
		if rec, err := decodeTermRecord(b); err == nil && rec.v2 {
			// A record of the tail layout: whatever decodes, tail
			// included, re-encodes to a record that decodes the same.
			tail, err := decodeTail(rec.tail, nil)
			if err == nil {
				rec2, err := decodeTermRecord(appendTermRecord(nil, rec.termMeta, tail))
				if err != nil || rec2.termMeta != rec.termMeta || rec2.tailCount != len(tail) {
					t.Fatalf("term record round trip: %+v %v", rec2, err)
				}
			}
		}
		if d, err := decodeDocRecord(b); err == nil {
			d2, err := decodeDocRecord(appendDocRecord(nil, d))
			if err != nil || d2.length != d.length || len(d2.terms) != len(d.terms) {
				t.Fatalf("forward record round trip: %v %v", d2, err)
			}
		}
		if s, err := decodeStats(b); err == nil {
			// Writers write the current version whatever they read.
			if s2, err := decodeStats(appendStats(nil, s)); err != nil || s2.docs != s.docs || s2.length != s.length || s2.version != formatVersion {
				t.Fatalf("statistics round trip: %v %v", s2, err)
			}
		}
	})
}
