package main

import (
	"flag"
	"fmt"

	"github.com/vecbolt/vecbolt/embedder"
	"github.com/vecbolt/vecbolt/embedder/models"
)

func modelsCommand() *command {
	return &command{
		name:    "models",
		args:    "[--json]",
		summary: "list the models --model accepts by name",
		help: `Lists the registered models with their kind (onnx: a transformer; static: a
pure-Go lookup table; server: a model behind an embedding server), the
backend that runs a transformer here (onnx: ONNX Runtime, when its library
is installed; go: the pure-Go encoder otherwise), vector length, download
size for that backend (each backend downloads its own files: the ONNX
export, or model.safetensors and config.json; the tokenizer is shared),
whether every file is pinned (a commit, sizes and SHA-256 digests, so
nothing else is needed to fetch and verify it) and whether it is in the
cache ($VECBOLT_CACHE). The two server forms follow: openai:MODEL
(OPENAI_BASE_URL, OPENAI_API_KEY) and ollama:MODEL (OLLAMA_HOST); their
length is the server's model's.
With --json, one array of {"name", "kind", "dim", "bytes", "pinned",
"cached"}, where bytes, pinned and cached are those of the backend this
build runs. It reads nothing from the network.
`,
		flags: modelsFlags,
	}
}

func modelsFlags(fs *flag.FlagSet) func(e *env, pos []string) error {
	var asJSON bool
	fs.BoolVar(&asJSON, "json", false, "print one JSON array")
	return func(e *env, pos []string) error {
		if len(pos) != 0 {
			return usagef("models takes no arguments")
		}
		c, err := embedder.NewModelCache(embedder.WithOffline(true), embedder.WithProgress(nil))
		if err != nil {
			return err
		}
		list := models.List(c)
		if asJSON {
			return jsonOut(e.stdout, list)
		}
		fmt.Fprintf(e.stdout, "%-22s %-7s %-7s %5s %10s  %-6s %s\n", "NAME", "KIND", "BACKEND", "DIM", "SIZE", "PINNED", "CACHED")
		for _, m := range list {
			dim, size := fmt.Sprint(m.Dim), humanBytes(m.Bytes)
			backend := "-"
			switch m.Layout {
			case embedder.LayoutONNX:
				backend = string(models.BackendONNX)
			case embedder.LayoutSafetensors:
				backend = string(models.BackendGo)
			}
			switch {
			case m.Kind == embedder.KindServer:
				dim, size = "-", "-"
			case !m.Pinned:
				size = "?" // some file's size is not pinned
			}
			pinned, cached := yesNo(m.Pinned), yesNo(m.Cached)
			if m.Kind == embedder.KindServer {
				pinned, cached = "-", "-"
			}
			fmt.Fprintf(e.stdout, "%-22s %-7s %-7s %5s %10s  %-6s %s\n", m.Name, m.Kind, backend, dim, size, pinned, cached)
		}
		return nil
	}
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
