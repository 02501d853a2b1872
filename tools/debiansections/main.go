// Command debiansections writes the Debian package descriptions of one
// split (internal/evalsets: the evaluation split by default, never trained
// on) as JSON Lines for `vecbolt import`: {"id": package, "text": long
// description, "metadata": {"section": archive section}}, keeping sections
// with at least --min descriptions in the split. README's map was drawn
// from its output; the bench's cluster suite uses the same selection.
//
//	apt-get update -o Dir::State::Lists=LISTS -o Acquire::Languages=en -o Acquire::GzipIndexes=false
//	go run ./tools/debiansections --lists LISTS > debian.jsonl
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/vecbolt/vecbolt/internal/evalsets"
)

func main() {
	lists := flag.String("lists", "", "apt lists `DIR` holding bookworm's main Packages and Translation-en (required)")
	minDocs := flag.Int("min", 50, "keep sections with at least `N` descriptions in the split")
	split := flag.String("split", "eval", "which packages: eval, dev or all")
	flag.Parse()
	if *lists == "" || flag.NArg() != 0 || *minDocs < 1 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*lists, *split, *minDocs); err != nil {
		fmt.Fprintln(os.Stderr, "debiansections:", err)
		os.Exit(1)
	}
}

func run(lists, split string, minDocs int) error {
	in := map[string]func(evalsets.Pair) bool{
		"eval": func(p evalsets.Pair) bool { return p.Eval },
		"dev":  func(p evalsets.Pair) bool { return p.Dev },
		"all":  func(evalsets.Pair) bool { return true },
	}[split]
	if in == nil {
		return fmt.Errorf("--split %q: want eval, dev or all", split)
	}
	pairs, err := evalsets.Load(lists)
	if err != nil {
		return err
	}
	secs, err := evalsets.LoadSections(lists)
	if err != nil {
		return err
	}
	count := map[string]int{}
	for _, p := range pairs {
		if in(p) {
			count[secs[p.Package]]++
		}
	}
	w := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	type doc struct {
		ID       string            `json:"id"`
		Text     string            `json:"text"`
		Metadata map[string]string `json:"metadata"`
	}
	for _, p := range pairs {
		sec := secs[p.Package]
		if !in(p) || sec == "" || count[sec] < minDocs {
			continue
		}
		if err := enc.Encode(doc{ID: p.Package, Text: p.Doc, Metadata: map[string]string{"section": sec}}); err != nil {
			return err
		}
	}
	return w.Flush()
}
