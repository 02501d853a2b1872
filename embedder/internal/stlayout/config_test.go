package stlayout

import (
	"errors"
	"github.com/vecbolt/vecbolt/embedder"
	"strings"
	"testing"
	"testing/fstest"
)

func TestReadModelConfig(t *testing.T) {
	def := embedder.ModelConfig{Pooling: embedder.PoolingMean, Normalize: true, MaxSeqLength: 512}
	stModules := `[{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},
	 {"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"},
	 {"idx":2,"name":"2","path":"2_Normalize","type":"sentence_transformers.models.Normalize"}]`
	tests := []struct {
		name    string
		files   map[string]string
		want    embedder.ModelConfig
		wantErr string
	}{
		{"nothing: defaults", nil, def, ""},
		{"vecbolt.json full", map[string]string{embedder.ConfigFileName: `{"name":"m","model":"onnx/model.onnx","pooling":"cls","normalize":false,
			"max_seq_length":128,"query_prefix":"q: ","document_prefix":"d: "}`},
			embedder.ModelConfig{Name: "m", Model: "onnx/model.onnx", Pooling: embedder.PoolingCLS, Normalize: false, MaxSeqLength: 128, QueryPrefix: "q: ", DocumentPrefix: "d: "}, ""},
		{"vecbolt.json partial keeps defaults", map[string]string{embedder.ConfigFileName: `{"pooling":"cls"}`},
			embedder.ModelConfig{Pooling: embedder.PoolingCLS, Normalize: true, MaxSeqLength: 512}, ""},
		{"vecbolt.json wins over sentence-transformers", map[string]string{embedder.ConfigFileName: `{"max_seq_length":64}`,
			"sentence_bert_config.json": `{"max_seq_length":256}`},
			embedder.ModelConfig{Pooling: embedder.PoolingMean, Normalize: true, MaxSeqLength: 64}, ""},
		{"sentence-transformers MiniLM layout", map[string]string{"modules.json": stModules,
			"1_Pooling/config.json":     `{"word_embedding_dimension":384,"pooling_mode_cls_token":false,"pooling_mode_mean_tokens":true}`,
			"sentence_bert_config.json": `{"max_seq_length":256,"do_lower_case":false}`},
			embedder.ModelConfig{Pooling: embedder.PoolingMean, Normalize: true, MaxSeqLength: 256}, ""},
		{"sentence-transformers CLS without Normalize module", map[string]string{
			"modules.json":          `[{"path":"1_Pooling","type":"sentence_transformers.models.Pooling"}]`,
			"1_Pooling/config.json": `{"pooling_mode_cls_token":true}`},
			embedder.ModelConfig{Pooling: embedder.PoolingCLS, Normalize: false, MaxSeqLength: 512}, ""},
		{"prompts", map[string]string{"config_sentence_transformers.json": `{"prompts":{"query":"query: ","passage":"passage: "}}`},
			embedder.ModelConfig{Pooling: embedder.PoolingMean, Normalize: true, MaxSeqLength: 512, QueryPrefix: "query: ", DocumentPrefix: "passage: "}, ""},
		{"unknown field", map[string]string{embedder.ConfigFileName: `{"poolin":"cls"}`}, def, `unknown field "poolin"`},
		{"bad pooling", map[string]string{embedder.ConfigFileName: `{"pooling":"max"}`}, def, `unsupported pooling "max"`},
		{"max pooling in st", map[string]string{"1_Pooling/config.json": `{"pooling_mode_max_tokens":true}`}, def, "only mean or CLS"},
		{"two modes", map[string]string{"1_Pooling/config.json": `{"pooling_mode_cls_token":true,"pooling_mode_mean_tokens":true}`}, def, "several pooling modes"},
		{"no mode", map[string]string{"1_Pooling/config.json": `{}`}, def, "no pooling mode"},
		{"length too small", map[string]string{embedder.ConfigFileName: `{"max_seq_length":1}`}, def, "max_seq_length 1"},
		{"length from st too small", map[string]string{"sentence_bert_config.json": `{"max_seq_length":0}`}, def, "max_seq_length 0"},
		{"absolute model path", map[string]string{embedder.ConfigFileName: `{"model":"/etc/passwd"}`}, def, "must be relative"},
		{"escaping model path", map[string]string{embedder.ConfigFileName: `{"model":"../x.onnx"}`}, def, "must be relative"},
		{"escaping pooling dir", map[string]string{"modules.json": `[{"path":"../p","type":"x.Pooling"}]`}, def, "pooling module path"},
		{"not json", map[string]string{"modules.json": `{`}, def, "modules.json"},
		{"trailing data", map[string]string{embedder.ConfigFileName: `{} {}`}, def, "trailing data"},
		{"huge", map[string]string{embedder.ConfigFileName: `{"name":"` + strings.Repeat("x", maxConfigBytes) + `"}`}, def, "larger than"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for k, v := range tc.files {
				fsys[k] = &fstest.MapFile{Data: []byte(v)}
			}
			got, err := ReadModelConfigFS(fsys)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want error containing %q", err, tc.wantErr)
				}
				if !errors.Is(err, embedder.ErrModelConfig) {
					t.Errorf("%v is not embedder.ErrModelConfig", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// tinyDir is the tiny BERT export shared by the embedder packages' tests
// (tools/gentinybert/gentinybert.py makes it).
const tinyDir = "../../testdata/tinybert"

func TestReadModelConfigTinyBERT(t *testing.T) {
	got, err := ReadModelConfig(tinyDir)
	if err != nil {
		t.Fatal(err)
	}
	if want := (embedder.ModelConfig{Pooling: embedder.PoolingMean, Normalize: true, MaxSeqLength: 32}); got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

// FuzzModelConfig feeds arbitrary bytes as each configuration file: the
// reader must return a valid configuration or an error, never panic.
func FuzzModelConfig(f *testing.F) {
	f.Add(0, []byte(`{"pooling":"cls","max_seq_length":128}`))
	f.Add(1, []byte(`[{"path":"1_Pooling","type":"sentence_transformers.models.Pooling"}]`))
	f.Add(2, []byte(`{"pooling_mode_mean_tokens":true}`))
	f.Add(3, []byte(`{"max_seq_length":256}`))
	f.Add(4, []byte(`{"prompts":{"query":"query: "}}`))
	names := []string{embedder.ConfigFileName, "modules.json", "1_Pooling/config.json", "sentence_bert_config.json", "config_sentence_transformers.json"}
	f.Fuzz(func(t *testing.T, which int, data []byte) {
		if which < 0 {
			which = -which
		}
		fsys := fstest.MapFS{names[which%len(names)]: &fstest.MapFile{Data: data}}
		cfg, err := ReadModelConfigFS(fsys)
		if err != nil {
			return
		}
		if verr := cfg.Validate("fuzz"); verr != nil {
			t.Fatalf("accepted an invalid configuration %+v: %v", cfg, verr)
		}
	})
}
