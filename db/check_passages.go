package db

import (
	"strings"

	"github.com/vecbolt/vecbolt/storage"
)

// checkPassages checks a chunked collection's documents against their
// passages (see passages.go): each document has exactly the passages 0..n-1,
// each naming it with offsets inside its text, and every passage entry
// belongs to a document. data reports a problem with the documents.
func checkPassages(ct *storage.CollectionTx, name string, data func(kind ProblemKind, doc, format string, args ...any)) {
	owned := make(map[string]bool)
	err := ct.ForEachParent("", func(p *storage.DocumentRecord) (bool, error) {
		for k := range int(p.Passages) {
			pid := passageID(p.Id, k)
			owned[pid] = true
			label, ok, err := ct.Label(pid)
			if err != nil {
				return false, err
			}
			if !ok {
				data(ProblemIDMap, p.Id, "collection %q: document %q lacks its passage %d of %d", name, p.Id, k, p.Passages)
				continue
			}
			rec, ok, err := ct.Record(label)
			switch {
			case err != nil:
				data(ProblemRecord, p.Id, "collection %q: passage %q: %v", name, pid, err)
			case !ok:
			case rec.ParentId != p.Id || rec.Start >= rec.End || int(rec.End) > len(p.Text):
				data(ProblemIDMap, p.Id, "collection %q: passage %q names document %q, bytes %d..%d of a text of %d", name, pid, rec.ParentId, rec.Start, rec.End, len(p.Text))
			}
		}
		return true, nil
	})
	if err != nil {
		data(ProblemRecord, "", "collection %q: documents: %v", name, err)
		return
	}
	err = ct.ForEachID(func(id []byte, _ uint64) error {
		if !owned[string(id)] {
			pid := string(id)
			data(ProblemIDMap, pid, "collection %q: passage %q belongs to no document (%q has none such)", name, pid, pid[:max(0, strings.LastIndexByte(pid, '#'))])
		}
		return nil
	})
	if err != nil {
		data(ProblemIDMap, "", "collection %q: ID map: %v", name, err)
	}
}
