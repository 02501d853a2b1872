package query

import "testing"

// benchDoc is a typical document: a handful of fields of every kind.
func benchDoc() Metadata {
	return Metadata{
		"lang":   String("en"),
		"year":   Int(2021),
		"score":  Float(0.8),
		"draft":  Bool(false),
		"tags":   Strings("db", "search", "go"),
		"author": String("ada"),
		"source": String("wiki"),
		"pages":  Int(12),
	}
}

const benchExpr = `lang = "en" AND year >= 2020 AND tags CONTAINS "go"`

// TestMatchAllocs pins the property BenchmarkMatch reports: Match runs
// once per candidate during filtered search and must not allocate (unless
// it returns an error). Allocation counts are deterministic, unlike timings.
func TestMatchAllocs(t *testing.T) {
	f, err := Parse(benchExpr)
	if err != nil {
		t.Fatal(err)
	}
	other, err := Parse(`NOT lang IN ["de", "fr"] OR score < 0.5 OR EXISTS nope OR pages != 12.0`)
	if err != nil {
		t.Fatal(err)
	}
	docs := []Metadata{benchDoc(), {"lang": String("de")}, {}}
	for _, flt := range []Filter{f, other} {
		for _, md := range docs {
			if n := testing.AllocsPerRun(100, func() {
				if _, err := flt.Match(md); err != nil {
					t.Fatal(err)
				}
			}); n != 0 {
				t.Errorf("%s on %v: %v allocs per Match, want 0", flt, md, n)
			}
		}
	}
}

func BenchmarkMatch(b *testing.B) {
	f, err := Parse(benchExpr)
	if err != nil {
		b.Fatal(err)
	}
	md := benchDoc()
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := f.Match(md); !ok || err != nil {
			b.Fatal("no match")
		}
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(benchExpr); err != nil {
			b.Fatal(err)
		}
	}
}
