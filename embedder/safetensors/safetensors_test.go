package safetensors

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"testing"
)

func stFile(header string, data []byte) []byte {
	var b bytes.Buffer
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(header)))
	b.Write(n[:])
	b.WriteString(header)
	b.Write(data)
	return b.Bytes()
}

func TestSafetensorsRoundTrip(t *testing.T) {
	vals := []float32{1, -2.5, 0.125, 3e-5, 65504, float32(math.Copysign(0, -1))}
	ts := []Tensor{
		F32Tensor("a", []int{2, 3}, vals),
		F16Tensor("b", []int{3, 2}, vals),
		I8Tensor("c", []int{4}, []int8{-128, -1, 0, 127}),
		F32Tensor("scalar", []int{}, []float32{7}),
	}
	var buf bytes.Buffer
	if err := Write(&buf, ts, map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	if hl := binary.LittleEndian.Uint64(buf.Bytes()); (hl+8)%8 != 0 {
		t.Errorf("header length %d leaves the data unaligned", hl)
	}
	st, err := Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if st.Metadata["k"] != "v" {
		t.Errorf("metadata = %v", st.Metadata)
	}
	if got := strings.Join(st.Names(), ","); got != "a,b,c,scalar" {
		t.Errorf("names = %s", got)
	}
	for _, name := range []string{"a", "b"} {
		tt, _ := st.Tensor(name)
		got, err := tt.Float32s()
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range vals {
			tol := float64(0)
			if name == "b" {
				tol = math.Abs(float64(v)) / 1024 // half precision: 10-bit mantissa
			}
			if math.Abs(float64(got[i]-v)) > tol {
				t.Errorf("%s[%d] = %v, want %v", name, i, got[i], v)
			}
		}
	}
	c, _ := st.Tensor("c")
	ints, err := c.Ints()
	if err != nil || ints[0] != -128 || ints[3] != 127 {
		t.Errorf("I8 ints = %v, %v", ints, err)
	}
	if _, err := c.Float32s(); !errors.Is(err, ErrInvalid) {
		t.Errorf("Float32s of I8: err = %v, want ErrInvalid", err)
	}
	s, _ := st.Tensor("scalar")
	if f, _ := s.Float32s(); len(f) != 1 || f[0] != 7 {
		t.Errorf("scalar = %v", f)
	}
}

// TestF16Exhaustive checks every half-precision value converts to float32
// and back unchanged (NaN payloads aside), which pins both conversions.
func TestF16Exhaustive(t *testing.T) {
	for h := 0; h < 1<<16; h++ {
		f := f16ToF32(uint16(h))
		if math.IsNaN(float64(f)) {
			if b := F32ToF16(f); b&0x7c00 != 0x7c00 || b&0x3ff == 0 {
				t.Fatalf("NaN %#04x came back as %#04x", h, b)
			}
			continue
		}
		if b := F32ToF16(f); b != uint16(h) {
			t.Fatalf("%#04x -> %v -> %#04x", h, f, b)
		}
	}
	// Rounding: halfway between 1 and the next half (1+2^-10) rounds to even.
	if got := F32ToF16(1 + 1.0/2048); got != 0x3c00 {
		t.Errorf("round-to-even: %#04x", got)
	}
	if got := F32ToF16(1e6); got != 0x7c00 {
		t.Errorf("overflow: %#04x, want +Inf", got)
	}
}

func TestSafetensorsInvalid(t *testing.T) {
	eight := make([]byte, 8)
	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"short", []byte{1, 2, 3}, "shorter than"},
		{"header too long", stFile("{}", nil)[:9], "exceeds the 1 bytes"},
		{"huge header", func() []byte { b := make([]byte, 16); binary.LittleEndian.PutUint64(b, 1<<40); return b }(), "exceeds the limit"},
		{"not json", stFile("nope", nil), "not JSON"},
		{"not object", stFile("[]", nil), "not a JSON object"},
		{"unknown dtype", stFile(`{"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}}`, []byte{0}), "unknown dtype"},
		{"size mismatch", stFile(`{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, eight), "needs 12 bytes"},
		{"out of range", stFile(`{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, eight), "outside"},
		{"reversed", stFile(`{"a":{"dtype":"U8","shape":[0],"data_offsets":[8,0]}}`, eight), "outside"},
		{"negative dim", stFile(`{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}}`, nil), "negative"},
		{"overlap", stFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, eight), "overlaps"},
		{"gap", stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, eight), "gap"},
		{"trailing data", stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, eight), "cover 4"},
		{"duplicate", stFile(`{"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0]},"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}`, nil), "twice"},
		{"missing field", stFile(`{"a":{"dtype":"U8","shape":[0]}}`, nil), "lacks"},
		{"extra field", stFile(`{"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0],"x":1}}`, nil), "unknown field"},
		{"bad offsets", stFile(`{"a":{"dtype":"U8","shape":[0],"data_offsets":[0]}}`, nil), "2 entries"},
		{"bad metadata", stFile(`{"__metadata__":{"a":1}}`, nil), "__metadata__"},
		{"garbage after", stFile(`{} x`, nil), "trailing data after"},
		// Regression (fuzzing): Parse took a tensor named "", which
		// Write refuses, so the file did not survive a rewrite.
		{"empty name", stFile(`{"":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}`, nil), "empty name"},
		{"huge shape", stFile(`{"a":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,0]}}`, nil), "too large"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.file)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %q, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestWriteInvalid(t *testing.T) {
	var buf bytes.Buffer
	for _, ts := range [][]Tensor{
		{{Name: "a", DType: "F32", Shape: []int{2}, Data: make([]byte, 4)}},
		{{Name: "a", DType: "X", Shape: []int{1}, Data: make([]byte, 4)}},
		{{Name: "", DType: "U8", Shape: []int{1}, Data: make([]byte, 1)}},
		{{Name: "a", DType: "U8", Shape: []int{1}, Data: make([]byte, 1)}, {Name: "a", DType: "U8", Shape: []int{1}, Data: make([]byte, 1)}},
	} {
		if err := Write(&buf, ts, nil); !errors.Is(err, ErrInvalid) {
			t.Errorf("%v: err = %v, want ErrInvalid", ts[0], err)
		}
	}
}

// FuzzSafetensors checks the parser never panics and that whatever it
// accepts is self-consistent: every tensor's bytes match its dtype × shape
// and lie inside the file, and a rewrite parses to the same tensors.
func FuzzSafetensors(f *testing.F) {
	var buf bytes.Buffer
	_ = Write(&buf, []Tensor{
		F32Tensor("embeddings", []int{2, 2}, []float32{1, 2, 3, 4}),
		F16Tensor("weights", []int{2}, []float32{0.5, 1}),
	}, map[string]string{"format": "pt"})
	f.Add(buf.Bytes())
	f.Add(stFile(`{"a":{"dtype":"I8","shape":[2],"data_offsets":[0,2]}}`, []byte{1, 2}))
	f.Add(stFile(`{}`, nil))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := Parse(b)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		var ts []Tensor
		for _, name := range st.Names() {
			tt, _ := st.Tensor(name)
			if tt.Len()*dtypeSize[tt.DType] != len(tt.Data) {
				t.Fatalf("tensor %q: %d bytes for %v %s", name, len(tt.Data), tt.Shape, tt.DType)
			}
			_, _ = tt.Float32s()
			_, _ = tt.Ints()
			ts = append(ts, tt)
		}
		var out bytes.Buffer
		if err := Write(&out, ts, st.Metadata); err != nil {
			t.Fatalf("rewrite: %v", err)
		}
		st2, err := Parse(out.Bytes())
		if err != nil {
			t.Fatalf("reparse: %v", err)
		}
		for _, tt := range ts {
			t2, ok := st2.Tensor(tt.Name)
			if !ok || t2.DType != tt.DType || !bytes.Equal(t2.Data, tt.Data) {
				t.Fatalf("tensor %q changed on rewrite", tt.Name)
			}
		}
	})
}
