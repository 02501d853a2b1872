package vecio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"path/filepath"
	"slices"
	"testing"
)

func TestFvecsRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		rows [][]float32
	}{
		{"empty", nil},
		{"one scalar", [][]float32{{1.5}}},
		{"matrix", [][]float32{{1, -2, 3.25}, {0, float32(math.SmallestNonzeroFloat32), float32(math.Copysign(0, -1))}, {math.MaxFloat32, 7, 8}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteFvecs(&buf, tc.rows); err != nil {
				t.Fatal(err)
			}
			wantLen := 0
			if len(tc.rows) > 0 {
				wantLen = len(tc.rows) * (4 + 4*len(tc.rows[0]))
			}
			if buf.Len() != wantLen {
				t.Fatalf("wrote %d bytes, want %d", buf.Len(), wantLen)
			}
			got, dim, err := ReadFvecs(&buf, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(tc.rows) > 0 && dim != len(tc.rows[0]) {
				t.Fatalf("dim %d, want %d", dim, len(tc.rows[0]))
			}
			if !slices.EqualFunc(got, tc.rows, slices.Equal[[]float32]) {
				t.Fatalf("got %v, want %v", got, tc.rows)
			}
		})
	}
}

func TestIvecsRoundTrip(t *testing.T) {
	rows := [][]int32{{0, 1, 2, 3}, {99, 98, 97, 1 << 30}}
	path := filepath.Join(t.TempDir(), "gt.ivecs")
	if err := WriteFileAtomic(path, func(w io.Writer) error { return WriteIvecs(w, rows) }); err != nil {
		t.Fatal(err)
	}
	got, dim, err := ReadIvecsFile(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if dim != 4 || !slices.EqualFunc(got, rows, slices.Equal[[]int32]) {
		t.Fatalf("got %v dim %d", got, dim)
	}
	got, _, err = ReadIvecsFile(path, Options{MaxRows: 1})
	if err != nil || len(got) != 1 {
		t.Fatalf("MaxRows 1: got %d rows, err %v", len(got), err)
	}
}

func rec(d int32, vals ...uint32) []byte {
	b := binary.LittleEndian.AppendUint32(nil, uint32(d))
	for _, v := range vals {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	return b
}

func TestReadFvecsRejects(t *testing.T) {
	one := math.Float32bits(1)
	tests := []struct {
		name string
		in   []byte
		opt  Options
	}{
		{"short header", []byte{1, 0}, Options{}},
		{"zero dim", rec(0), Options{}},
		{"negative dim", rec(-3, one), Options{}},
		{"huge dim", rec(MaxDim+1, one), Options{}},
		{"truncated payload", rec(3, one, one), Options{}},
		{"dimension changes", append(rec(1, one), rec(2, one, one)...), Options{}},
		{"wrong wanted dim", rec(2, one, one), Options{WantDim: 3}},
		{"NaN", rec(2, one, math.Float32bits(float32(math.NaN()))), Options{}},
		{"Inf", rec(1, math.Float32bits(float32(math.Inf(-1)))), Options{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ReadFvecs(bytes.NewReader(tc.in), tc.opt)
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("err = %v, want ErrFormat", err)
			}
		})
	}
}

func TestReadIvecsRejectsNegative(t *testing.T) {
	_, _, err := ReadIvecs(bytes.NewReader(rec(2, 1, 0xffffffff)), Options{})
	if !errors.Is(err, ErrFormat) {
		t.Fatalf("err = %v, want ErrFormat", err)
	}
}

func TestWriteRejectsRagged(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteFvecs(&buf, [][]float32{{1, 2}, {3}}); err == nil {
		t.Fatal("ragged rows accepted")
	}
	if err := WriteIvecs(&buf, [][]int32{{}}); err == nil {
		t.Fatal("zero-length row accepted")
	}
}

func TestBadOptions(t *testing.T) {
	if _, _, err := ReadFvecs(bytes.NewReader(nil), Options{MaxRows: -1}); err == nil {
		t.Fatal("negative MaxRows accepted")
	}
	if _, _, err := ReadFvecs(bytes.NewReader(nil), Options{WantDim: -1}); err == nil {
		t.Fatal("negative WantDim accepted")
	}
}

// FuzzReadFvecs checks that arbitrary input never panics, that accepted
// input is a well-formed matrix of finite values, and that writing it back
// reproduces the bytes that were consumed.
func FuzzReadFvecs(f *testing.F) {
	f.Add(rec(2, math.Float32bits(1), math.Float32bits(-2)))
	f.Add(append(rec(1, 0), rec(1, math.Float32bits(3))...))
	f.Add(rec(3, 1))
	f.Add([]byte{0xff, 0xff, 0xff, 0x7f})
	f.Fuzz(func(t *testing.T, in []byte) {
		rows, dim, err := ReadFvecs(bytes.NewReader(in), Options{})
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error does not wrap ErrFormat: %v", err)
			}
			return
		}
		if len(in) != len(rows)*(4+4*dim) {
			t.Fatalf("accepted %d bytes as %d rows of dim %d", len(in), len(rows), dim)
		}
		var buf bytes.Buffer
		if err := WriteFvecs(&buf, rows); err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			for _, v := range r {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					t.Fatalf("accepted non-finite %v", v)
				}
			}
		}
		if !bytes.Equal(buf.Bytes(), in) {
			t.Fatalf("round trip changed the bytes")
		}
	})
}
