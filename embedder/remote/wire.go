package remote

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// The two wire formats, as their public documentation describes them.
//
// OpenAI (platform.openai.com API reference, "Create embeddings"): the
// request is {"model", "input": [strings], "encoding_format": "float",
// "dimensions"?}; the answer is {"object": "list", "data": [{"object":
// "embedding", "index", "embedding": [floats]}], "model", "usage"}. The
// data items carry their index, so they are placed by it rather than by
// order. Errors are {"error": {"message", "type", "param", "code"}}.
//
// Ollama (docs/api.md, "Generate Embeddings", POST /api/embed): the
// request is {"model", "input": [strings], "dimensions"?}; the answer is
// {"model", "embeddings": [[floats]], "total_duration", "load_duration",
// "prompt_eval_count"} in input order. Errors are {"error": "message"}.

// maxVectorLen bounds a decoded vector like the database bounds a
// collection's dimension.
const maxVectorLen = 65536

func encodeRequest(p Provider, model string, input []string, dims int) ([]byte, error) {
	req := struct {
		Model          string   `json:"model"`
		Input          []string `json:"input"`
		EncodingFormat string   `json:"encoding_format,omitempty"`
		Dimensions     int      `json:"dimensions,omitempty"`
	}{Model: model, Input: input, Dimensions: dims}
	if p == OpenAI {
		// Some servers answer base64 unless asked; float is what is decoded.
		req.EncodingFormat = "float"
	}
	b, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("remote: encoding the request: %w", err)
	}
	return b, nil
}

// strictUnmarshal decodes one JSON value and nothing after it.
func strictUnmarshal(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("not the expected JSON: %w", err)
	}
	if _, err := dec.Token(); err == nil {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// decodeOpenAI returns the n vectors of an OpenAI-format answer, in input
// order. A vector's values are checked for length here; finiteness is the
// caller's check (JSON has no NaN literal, but a number may overflow
// float32, which the decoder refuses).
func decodeOpenAI(data []byte, n int) ([][]float32, error) {
	var resp struct {
		Object *string `json:"object"`
		Data   *[]struct {
			Index     *int             `json:"index"`
			Embedding *json.RawMessage `json:"embedding"`
		} `json:"data"`
	}
	if err := strictUnmarshal(data, &resp); err != nil {
		return nil, err
	}
	if resp.Data == nil {
		return nil, errors.New(`no "data" array`)
	}
	if len(*resp.Data) != n {
		return nil, fmt.Errorf("%d vectors for %d texts", len(*resp.Data), n)
	}
	out := make([][]float32, n)
	for i, d := range *resp.Data {
		if d.Index == nil {
			return nil, fmt.Errorf(`data item %d has no "index"`, i)
		}
		k := *d.Index
		if k < 0 || k >= n {
			return nil, fmt.Errorf("data item %d has index %d, outside 0..%d", i, k, n-1)
		}
		if out[k] != nil {
			return nil, fmt.Errorf("index %d appears twice", k)
		}
		if d.Embedding == nil {
			return nil, fmt.Errorf(`data item %d has no "embedding"`, i)
		}
		v, err := decodeVector(*d.Embedding)
		if err != nil {
			return nil, fmt.Errorf("data item %d: %w", i, err)
		}
		out[k] = v
	}
	return out, nil
}

// decodeOllama returns the n vectors of an Ollama /api/embed answer.
func decodeOllama(data []byte, n int) ([][]float32, error) {
	var resp struct {
		Embeddings *[]json.RawMessage `json:"embeddings"`
	}
	if err := strictUnmarshal(data, &resp); err != nil {
		return nil, err
	}
	if resp.Embeddings == nil {
		return nil, errors.New(`no "embeddings" array`)
	}
	if len(*resp.Embeddings) != n {
		return nil, fmt.Errorf("%d vectors for %d texts", len(*resp.Embeddings), n)
	}
	out := make([][]float32, n)
	for i, raw := range *resp.Embeddings {
		v, err := decodeVector(raw)
		if err != nil {
			return nil, fmt.Errorf("embedding %d: %w", i, err)
		}
		out[i] = v
	}
	return out, nil
}

// decodeVector reads a non-empty JSON array of numbers into float32s.
func decodeVector(raw json.RawMessage) ([]float32, error) {
	var v []float32
	if err := json.Unmarshal(raw, &v); err != nil {
		// A base64 string, a nested array (llama.cpp without pooling), null.
		return nil, errors.New("the embedding is not an array of numbers within float32 range")
	}
	if len(v) == 0 {
		return nil, errors.New("the embedding is empty")
	}
	if len(v) > maxVectorLen {
		return nil, fmt.Errorf("the embedding has %d values, more than %d", len(v), maxVectorLen)
	}
	return v, nil
}

// errorMessage extracts a server's message from an error body: OpenAI's
// {"error": {"message"}}, Ollama's and TEI's {"error": "..."}, or a plain
// "message"; failing those, the start of the body as text. It is capped and
// stripped of control characters, for a one-line error.
func errorMessage(body []byte) string {
	var e struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
	}
	msg := ""
	if json.Unmarshal(body, &e) == nil {
		var s string
		var obj struct {
			Message string `json:"message"`
		}
		switch {
		case len(e.Error) > 0 && json.Unmarshal(e.Error, &s) == nil:
			msg = s
		case len(e.Error) > 0 && json.Unmarshal(e.Error, &obj) == nil && obj.Message != "":
			msg = obj.Message
		default:
			msg = e.Message
		}
	}
	if msg == "" {
		msg = string(body)
	}
	msg = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\uFFFD' {
			return ' '
		}
		return r
	}, msg)
	msg = strings.Join(strings.Fields(msg), " ")
	const maxLen = 300
	if len(msg) > maxLen {
		cut := maxLen
		for cut > 0 && !utfStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "..."
	}
	return msg
}

func utfStart(b byte) bool { return b&0xC0 != 0x80 }
