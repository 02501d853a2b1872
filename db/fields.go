package db

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/vecbolt/vecbolt/query"
	"github.com/vecbolt/vecbolt/storage"
)

// FieldType is the type a collection records for a metadata field: the
// type of the field's value in the first document that had it. From then
// on every document must give the field that type, and filters on the
// field are type-checked against it before a search visits any document.
type FieldType string

// The field types. int and float values are both TypeNumber.
const (
	TypeString  FieldType = "string"
	TypeNumber  FieldType = "number"
	TypeBool    FieldType = "bool"
	TypeStrings FieldType = "strings" // a list of strings
	// TypeMixed marks a field whose documents hold values of several types,
	// written before vecbolt recorded field types. Such a field accepts
	// values of any type, and a filter may only test EXISTS on it (any other
	// comparison is refused with ErrInvalidArgument, every time). It becomes
	// typed again when the collection is next loaded (on open, or by
	// DB.Reindex) once its documents agree, after the odd ones were
	// replaced or deleted; an export and import into a new collection with
	// skip-invalid keeps the type of the first document.
	TypeMixed FieldType = "mixed"
)

// typeOfKind maps a value's kind to its field type.
func typeOfKind(k query.Kind) FieldType {
	switch k {
	case query.KindString:
		return TypeString
	case query.KindInt, query.KindFloat:
		return TypeNumber
	case query.KindBool:
		return TypeBool
	default:
		return TypeStrings
	}
}

// kind is the query kind that stands for t in query.Check (0 for mixed).
func (t FieldType) kind() query.Kind {
	switch t {
	case TypeString:
		return query.KindString
	case TypeNumber:
		return query.KindInt // compares with floats too
	case TypeBool:
		return query.KindBool
	case TypeStrings:
		return query.KindStrings
	}
	return 0
}

// phrase is t as the complement of "is" in messages.
func (t FieldType) phrase() string {
	switch t {
	case TypeStrings:
		return "a list of strings"
	case TypeMixed:
		return "of mixed types"
	}
	return "a " + string(t)
}

var typeToRecord = map[FieldType]storage.FieldType{
	TypeString:  storage.FieldTypeString,
	TypeNumber:  storage.FieldTypeNumber,
	TypeBool:    storage.FieldTypeBool,
	TypeStrings: storage.FieldTypeStrings,
	TypeMixed:   storage.FieldTypeMixed,
}

func typeFromRecord(t storage.FieldType) (FieldType, bool) {
	for ft, r := range typeToRecord {
		if r == t {
			return ft, true
		}
	}
	return "", false
}

// fieldSet is a collection's metadata field types as a loaded collection
// holds them. colState.fields is guarded by liveMu and changed only by
// writers, who also hold writeMu (so a writer may read it without liveMu).
type fieldSet struct {
	types map[string]FieldType
	// mixed lists, for each TypeMixed field, the types its documents hold
	// (for messages); empty for a mixed field no document holds any more.
	mixed map[string][]FieldType
	// stale says the file's record disagrees with types: the collection
	// was written before types were recorded (or by such a version since),
	// so the types were inferred from its documents. The next write
	// records all of them in its transaction.
	stale bool
}

// fieldRecord is what the file records: the types, and whether the
// collection has a record at all.
type fieldRecord struct {
	types    map[string]FieldType
	recorded bool
}

func readFieldRecord(c *storage.CollectionTx) (fieldRecord, error) {
	raw, recorded, err := c.FieldTypes()
	if err != nil {
		return fieldRecord{}, err
	}
	r := fieldRecord{types: make(map[string]FieldType, len(raw)), recorded: recorded}
	for k, t := range raw {
		ft, ok := typeFromRecord(t)
		if !ok {
			return fieldRecord{}, fmt.Errorf("%w: collection %q: field %q has unknown recorded type %v", ErrCorrupt, c.Name(), short(k), t)
		}
		r.types[k] = ft
	}
	return r, nil
}

// observe adds md's field types to seen.
func observe(seen map[string][]FieldType, md query.Metadata) {
	for k, v := range md {
		observeOne(seen, k, v)
	}
}

func observeOne(seen map[string][]FieldType, k string, v query.Value) {
	t := typeOfKind(v.Kind())
	if !slices.Contains(seen[k], t) {
		seen[k] = append(seen[k], t)
	}
}

// initFields sets st.fields from the file's record and the live set, which
// the caller has filled from the documents.
//
// A collection with a record is trusted: every write records the types it
// introduces in its own transaction. Its TypeMixed fields are looked up in
// the documents again, so that one whose odd documents were replaced or
// deleted becomes typed. A collection without a record (written before
// types were recorded) has its types inferred from the documents, and is
// marked stale so that its next write records them. Reading every
// document's metadata is not free (2.9 s for a million documents of four
// fields on a loaded 2-core machine), which is why a recorded collection
// skips it.
//
// Where documents hold a field, their types win over the record; the
// record supplies the types of fields no document holds any more
// (deleting documents does not forget a type).
func (st *colState) initFields(c *storage.CollectionTx) error {
	rec, err := readFieldRecord(c)
	if err != nil {
		return err
	}
	st.mergeFields(rec)
	return nil
}

// mergeFields is initFields with the record read already.
func (st *colState) mergeFields(rec fieldRecord) {
	seen := make(map[string][]FieldType)
	if !rec.recorded {
		for _, d := range st.live {
			observe(seen, d.md)
		}
	} else {
		var mixed []string
		for k, t := range rec.types {
			if t == TypeMixed {
				mixed = append(mixed, k)
			}
		}
		if len(mixed) > 0 {
			for _, d := range st.live {
				for _, k := range mixed {
					if v, ok := d.md[k]; ok {
						observeOne(seen, k, v)
					}
				}
			}
		}
	}
	st.fields = mergeFieldTypes(rec, seen)
}

// mergeFieldTypes combines a record with the types the documents hold
// (seen); see initFields.
func mergeFieldTypes(rec fieldRecord, seen map[string][]FieldType) fieldSet {
	fs := fieldSet{types: maps.Clone(rec.types), mixed: make(map[string][]FieldType), stale: !rec.recorded}
	if fs.types == nil {
		fs.types = make(map[string]FieldType)
	}
	for k, ts := range seen {
		t := ts[0]
		if len(ts) > 1 {
			t = TypeMixed
			slices.Sort(ts)
			fs.mixed[k] = ts
		}
		if fs.types[k] != t {
			fs.types[k] = t
			fs.stale = true
		}
	}
	for k, t := range fs.types {
		if t == TypeMixed && fs.mixed[k] == nil {
			fs.mixed[k] = []FieldType{}
		}
	}
	return fs
}

// fieldUpdate is what a write changes in a collection's field types.
type fieldUpdate struct {
	added   map[string]FieldType
	wrote   bool // the transaction recorded every type (the record was stale)
	changed bool
}

// checkFields checks a batch's metadata against the field types known
// (types) and against itself, and returns the types the batch introduces
// and every document that conflicts: one that gives a field another type
// than known, or than an earlier accepted document of the batch, is a
// *DocumentError wrapping ErrInvalidDocument, and its fields introduce
// nothing. TypeMixed fields take any type. Entries without a record
// (rejected already) are skipped.
func checkFields(coll string, types map[string]FieldType, batch []prepared) (map[string]FieldType, []*DocumentError) {
	var added map[string]FieldType
	var first map[string]int // batch position that introduced each added field
	var bad []*DocumentError
	for i, p := range batch {
		if p.rec == nil {
			continue
		}
		if err := conflict(coll, types, added, first, p); err != nil {
			bad = append(bad, p.fail(i, err))
			continue
		}
		for k, v := range p.md {
			if _, ok := types[k]; ok {
				continue
			}
			if _, ok := added[k]; !ok {
				if added == nil {
					added, first = make(map[string]FieldType), make(map[string]int)
				}
				added[k], first[k] = typeOfKind(v.Kind()), i
			}
		}
	}
	return added, bad
}

// conflict returns the first field of p whose type disagrees with the
// known types or with those added by earlier documents of the batch.
func conflict(coll string, types, added map[string]FieldType, first map[string]int, p prepared) error {
	for k, v := range p.md {
		t := typeOfKind(v.Kind())
		if known, ok := types[k]; ok {
			if known != t && known != TypeMixed {
				return invalid("metadata field %q is %s (%s), but collection %q records it as %s", short(k), t.phrase(), short(v.String()), short(coll), known.phrase())
			}
			continue
		}
		if known, ok := added[k]; ok && known != t {
			return invalid("metadata field %q is %s (%s), but document %d of the same batch made it %s", short(k), t.phrase(), short(v.String()), first[k], known.phrase())
		}
	}
	return nil
}

// fail makes the error of the document at batch position i.
func (p prepared) fail(i int, err error) *DocumentError {
	id := p.rec.Id
	if p.newID {
		id = "" // generated: the caller never saw it
	}
	return &DocumentError{Index: i, ID: id, Err: err}
}

// checkBatchFields is checkFields against the collection's current types,
// run before embedding so that a document that cannot be stored costs no
// model time. The write's transaction checks again (recordFields), since
// another write may introduce a field meanwhile.
func (st *colState) checkBatchFields(batch []prepared) []*DocumentError {
	st.liveMu.RLock()
	defer st.liveMu.RUnlock()
	_, bad := checkFields(st.cfg.Name, st.fields.types, batch)
	return bad
}

// recordFields checks the field types of the documents a write will store
// (the entries of batch with a record) inside the write's transaction, and
// records the fields they introduce there, so that no committed document
// has a field whose type is not recorded. It returns the documents that
// conflict, which the caller must leave out (or fail the write); their
// fields are not recorded. The caller holds writeMu, and applies the result
// with applyFields once the transaction has committed.
func (st *colState) recordFields(c *storage.CollectionTx, batch []prepared) (fieldUpdate, []*DocumentError, error) {
	added, bad := checkFields(st.cfg.Name, st.fields.types, batch)
	u := fieldUpdate{added: added, wrote: st.fields.stale}
	put := added
	if u.wrote {
		put = maps.Clone(st.fields.types)
		maps.Copy(put, added)
	}
	u.changed = u.wrote || len(added) > 0
	if !u.changed {
		return u, bad, nil
	}
	rec := make(map[string]storage.FieldType, len(put))
	for k, t := range put {
		rec[k] = typeToRecord[t]
	}
	return u, bad, c.PutFieldTypes(rec)
}

// applyFields makes a committed write's field types visible. The caller
// holds writeMu and liveMu.
func (st *colState) applyFields(u fieldUpdate) {
	if !u.changed {
		return
	}
	maps.Copy(st.fields.types, u.added)
	if u.wrote {
		st.fields.stale = false
	}
}

// fieldTypes returns a copy of the collection's field types. The caller
// holds liveMu.
func (st *colState) fieldTypes() map[string]FieldType {
	if len(st.fields.types) == 0 {
		return nil
	}
	return maps.Clone(st.fields.types)
}

// checkFilter type-checks a filter against the collection's fields before
// anything is searched, so that whether a filter fails never depends on
// which documents a search visits: with every document's field types
// recorded, a filter that passes cannot meet a type mismatch. A field no
// document has yet passes (and matches as a missing field does). Every
// operation that takes a filter calls it, holding liveMu, which keeps the
// types in step with the documents the operation sees.
func (st *colState) checkFilter(f query.Filter) error {
	if f == nil {
		return nil
	}
	err := query.Check(f, func(field string) (query.Kind, error) {
		t := st.fields.types[field]
		if t == TypeMixed {
			return 0, &mixedFieldError{coll: st.cfg.Name, field: field, types: st.fields.mixed[field]}
		}
		return t.kind(), nil
	})
	var te *query.TypeError
	var me *mixedFieldError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &me):
		return fmt.Errorf("%w: filter: %w", ErrInvalidArgument, err)
	case errors.As(err, &te):
		hint := ""
		if te.Stored == query.KindStrings && te.Literal.Kind() == query.KindString {
			hint = "; use CONTAINS to test list membership"
		}
		return fmt.Errorf("%w: filter: field %q is %s in collection %q, but the filter compares it (%s) with %s %s%s: %w",
			ErrInvalidArgument, short(te.Field), st.fields.types[te.Field].phrase(), short(st.cfg.Name), te.Op, typeOfKind(te.Literal.Kind()).phrase(), short(te.Literal.String()), hint, query.ErrTypeMismatch)
	}
	return fmt.Errorf("%w: filter: %w", ErrInvalidArgument, err)
}

// mixedFieldError refuses a typed comparison on a TypeMixed field.
type mixedFieldError struct {
	coll, field string
	types       []FieldType
}

func (e *mixedFieldError) Error() string {
	holds := "held values of several types"
	if len(e.types) > 0 {
		names := make([]string, len(e.types))
		for i, t := range e.types {
			names[i] = string(t)
		}
		holds = "holds values of several types (" + strings.Join(names, ", ") + ")"
	}
	return fmt.Sprintf("field %q of collection %q %s, written before vecbolt recorded field types, so a filter can only test EXISTS on it (type mismatch); replace or delete the odd documents and reopen the collection, or export it and import it into a new one (vecbolt check lists such fields)",
		short(e.field), short(e.coll), holds)
}

func (e *mixedFieldError) Unwrap() error { return query.ErrTypeMismatch }

// storedFieldTypes returns a collection's field types as the file records
// them, for collections that are not loaded; a collection written before
// types were recorded has them inferred from its documents' heads.
func storedFieldTypes(c *storage.CollectionTx) (map[string]FieldType, error) {
	rec, err := readFieldRecord(c)
	if err != nil || rec.recorded {
		if len(rec.types) == 0 {
			return nil, err
		}
		return rec.types, err
	}
	seen := make(map[string][]FieldType)
	err = c.ForEachHead(func(label uint64, payload []byte) error {
		_, md, err := readHead(payload)
		if err != nil {
			return fmt.Errorf("label %d: %w", label, err)
		}
		observe(seen, md)
		return nil
	})
	if err != nil {
		return nil, err
	}
	fs := mergeFieldTypes(rec, seen)
	if len(fs.types) == 0 {
		return nil, nil
	}
	return fs.types, nil
}
