package fulltext

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Batch is documents analyzed by [Analyzer.Analyze] and grouped by term,
// for [Writer.AddBatch]. Grouping needs no transaction either: db groups
// a batch beside the embedder, so that the transaction only reads and
// writes each term's record (grouping in the transaction, a map lookup
// per distinct term of every document and a sort of the batch's terms,
// cost some 15 CPU µs per Debian description there).
type Batch struct {
	docs  []*Doc
	terms []string         // the distinct terms, sorted
	lists [][]batchPosting // per term, its documents in batch order
}

// batchPosting is one document of a term's list in a Batch.
type batchPosting struct {
	doc int32 // index in Batch.docs
	tf  uint32
}

// NewBatch groups docs by term; nil entries are documents left out.
func NewBatch(docs []*Doc) (*Batch, error) {
	if len(docs) > math.MaxInt32 {
		return nil, fmt.Errorf("fulltext: a batch of %d documents (at most %d)", len(docs), math.MaxInt32)
	}
	total := 0
	for _, d := range docs {
		if d != nil {
			total += len(d.rec.terms)
		}
	}
	// Two passes over the documents' terms, the first numbering the
	// distinct terms and counting their documents, the second filling
	// one array of postings cut into the terms' lists: a map lookup per
	// term of each document, and a few allocations per batch (appending
	// to a list per term, and a map grown from empty, cost as much again).
	idx := make(map[string]int32, total/4)
	ids := make([]int32, 0, total)
	var terms []string
	var counts []int32
	for _, d := range docs {
		if d == nil {
			continue
		}
		for _, t := range d.rec.terms {
			j, ok := idx[t.term]
			if !ok {
				j = int32(len(terms))
				idx[t.term] = j
				terms = append(terms, t.term)
				counts = append(counts, 0)
			}
			counts[j]++
			ids = append(ids, j)
		}
	}
	order := make([]int32, len(terms))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(x, y int32) int { return strings.Compare(terms[x], terms[y]) })
	// The terms' bytes in one string, in key order: keys must not pin
	// the documents' texts.
	var sb strings.Builder
	for _, j := range order {
		sb.WriteString(terms[j])
	}
	all := sb.String()
	b := &Batch{docs: docs, terms: make([]string, len(order)), lists: make([][]batchPosting, len(order))}
	next := make([]int32, len(terms)) // by term number: where its next posting goes
	flat := make([]batchPosting, total)
	at, off := 0, int32(0)
	for r, j := range order {
		b.terms[r] = all[at : at+len(terms[j])]
		at += len(terms[j])
		b.lists[r] = flat[off : off+counts[j] : off+counts[j]]
		next[j] = off
		off += counts[j]
	}
	k := 0
	for i, d := range docs {
		if d == nil {
			continue
		}
		for _, t := range d.rec.terms {
			j := ids[k]
			k++
			flat[next[j]] = batchPosting{doc: int32(i), tf: t.tf}
			next[j]++
		}
	}
	return b, nil
}

// Len returns the number of documents of the batch, nil ones included.
func (b *Batch) Len() int { return len(b.docs) }

// AddBatch indexes the documents of b that have a label, as AddDoc of
// each, in batch order, would: labels[i] is document i's label, and
// skip[i] (if skip is not nil) leaves document i out, as a nil Doc does.
// When every label is new and above the index's others (the common case:
// an insert), the batch's postings are written at once, term by term;
// otherwise it falls back to AddDoc.
func (w *Writer) AddBatch(b *Batch, labels []uint64, skip []bool) error {
	if b == nil {
		return errors.New("fulltext: AddBatch of a nil Batch")
	}
	if len(labels) != len(b.docs) || skip != nil && len(skip) != len(b.docs) {
		return fmt.Errorf("fulltext: AddBatch of %d documents with %d labels and %d skip flags", len(b.docs), len(labels), len(skip))
	}
	in := func(i int) bool { return b.docs[i] != nil && (skip == nil || !skip[i]) }
	// Labels that grow from above the forward records' need no look-up
	// and no Delete, and give each term's postings in label order; with
	// nothing pending, writing them now is what Flush would write.
	fast, last, any := len(w.pendTerms) == 0, w.maxLabel, w.hasDocs
	for i := range b.docs {
		if !in(i) {
			continue
		}
		l := labels[i]
		if l == math.MaxUint64 {
			return fmt.Errorf("fulltext: label %d is reserved", l)
		}
		if any && l <= last {
			fast = false
		}
		last, any = l, true
	}
	if !fast {
		for i, d := range b.docs {
			if in(i) {
				if err := w.add(labels[i], d.rec, d.enc); err != nil {
					return err
				}
			}
		}
		return nil
	}
	n := 0
	for i, d := range b.docs {
		if !in(i) {
			continue
		}
		if err := w.docs.Put(labelKey(w.alloc(8), labels[i]), d.enc); err != nil {
			return fmt.Errorf("fulltext: %w", err)
		}
		w.hasDocs, w.maxLabel = true, labels[i]
		w.st.docs++
		w.st.length += uint64(d.rec.length)
		w.dirty = true
		n++
	}
	if n == 0 {
		return nil
	}
	for t, list := range b.lists {
		ps := w.batchPs[:0]
		for _, p := range list {
			if in(int(p.doc)) {
				ps = append(ps, posting{label: labels[p.doc], tf: p.tf, dl: b.docs[p.doc].rec.length})
			}
		}
		w.batchPs = ps
		if len(ps) == 0 {
			continue
		}
		if err := w.mergeTerm(b.terms[t], ps); err != nil {
			return err
		}
	}
	return nil
}
