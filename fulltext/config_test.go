package fulltext

import (
	"errors"
	"math"
	"testing"
)

func TestConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		ok   bool
		want Config // normalized, when ok
	}{
		{"zero is English with defaults", Config{}, true, Config{Language: LanguageEnglish, K1: 1.2, B: 0.75}},
		{"none", Config{Language: LanguageNone, K1: 2, B: 0.3}, true, Config{Language: LanguageNone, K1: 2, B: 0.3}},
		{"no length norm", Config{NoLengthNorm: true}, true, Config{Language: LanguageEnglish, K1: 1.2, NoLengthNorm: true}},
		{"no stemming", Config{NoStemming: true}, true, Config{Language: LanguageEnglish, K1: 1.2, B: 0.75, NoStemming: true}},
		{"unknown language", Config{Language: "french"}, false, Config{}},
		{"negative k1", Config{K1: -1}, false, Config{}},
		{"huge k1", Config{K1: 11}, false, Config{}},
		{"NaN k1", Config{K1: math.NaN()}, false, Config{}},
		{"b above 1", Config{B: 1.5}, false, Config{}},
		{"b with no length norm", Config{B: 0.5, NoLengthNorm: true}, false, Config{}},
		{"stemming flag without English", Config{Language: LanguageNone, NoStemming: true}, false, Config{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.cfg.Normalized()
			if !tc.ok {
				if !errors.Is(err, ErrConfig) {
					t.Fatalf("Normalized: %v, want ErrConfig", err)
				}
				if _, err := NewAnalyzer(tc.cfg); !errors.Is(err, ErrConfig) {
					t.Fatalf("NewAnalyzer: %v, want ErrConfig", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Normalized: %+v, %v; want %+v", got, err, tc.want)
			}
			data, err := tc.cfg.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			var back Config
			if err := back.UnmarshalBinary(data); err != nil || back != tc.want {
				t.Fatalf("round trip of %s: %+v, %v", data, back, err)
			}
		})
	}
	for _, bad := range []string{``, `{`, `{"language":"english","k1":1.2,"b":0.75,"x":1}`, `{"k1":-3}`, `{} {}`, `[]`} {
		var c Config
		if err := c.UnmarshalBinary([]byte(bad)); !errors.Is(err, ErrConfig) {
			t.Errorf("UnmarshalBinary(%q): %v, want ErrConfig", bad, err)
		}
	}
}

func TestAnalyzerTerms(t *testing.T) {
	en, _ := NewAnalyzer(Config{})
	none, _ := NewAnalyzer(Config{Language: LanguageNone})
	nostem, _ := NewAnalyzer(Config{NoStemming: true})
	for _, tc := range []struct {
		a    *Analyzer
		text string
		want []string
	}{
		{en, "The Runners were RUNNING to the café!", []string{"runner", "run", "cafe"}},
		{en, "Debian's packages don't", []string{"debian", "packag"}},
		{en, "x86_64 foo.bar 3.14", []string{"x86", "64", "foo", "bar", "3", "14"}},
		{none, "The Runners naïve ﬁle", []string{"the", "runners", "naive", "file"}},
		{none, "東京タワー", []string{"東", "京", "タワー"}},
		{nostem, "The connections", []string{"connections"}},
		{en, "  ... !!! 👍 ", nil},
	} {
		got := tc.a.Terms(nil, tc.text)
		if len(got) != len(tc.want) {
			t.Errorf("%+v %q: %q, want %q", tc.a.cfg, tc.text, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%+v %q: %q, want %q", tc.a.cfg, tc.text, got, tc.want)
				break
			}
		}
	}
}
