package main

import (
	"flag"
	"fmt"
	"strconv"
)

func tokenizeCommand() *command {
	return &command{
		name:    "tokenize",
		args:    "[--model MODEL] [--json] [--no-special] TEXT",
		summary: "show how a model's tokenizer splits a text",
		help: `Prints the token ids of TEXT, one token per line with its text and byte
range, or a JSON array of ids with --json. The tokenizer is DIR/tokenizer.json
(or a tokenizer.json path), a registered model's, or by default the
built-in model's. A word-vector file or a server's model (openai:NAME,
ollama:NAME) has no tokenizer vecbolt can show, and is refused with an
error saying so.
`,
		flags: tokenizeFlags,
	}
}

func tokenizeFlags(fs *flag.FlagSet) func(e *env, pos []string) error {
	var model string
	var asJSON, noSpecial bool
	fs.StringVar(&model, "model", "", "the tokenizer of `MODEL`: a model directory, a tokenizer.json file or a registered name (default: the built-in model's)")
	fs.BoolVar(&asJSON, "json", false, "print a JSON array of ids")
	fs.BoolVar(&noSpecial, "no-special", false, "leave out the [CLS]/[SEP] template tokens")
	return func(e *env, pos []string) (err error) {
		if len(pos) != 1 {
			return usagef("tokenize takes exactly one TEXT argument, got %d (quote the text)", len(pos))
		}
		tok, err := loadTokenizer(e.ctx, model, e.builtin, e.modelOpts...)
		if err != nil {
			return err
		}
		enc := tok.Encode(pos[0], !noSpecial)
		if asJSON {
			ids := enc.IDs
			if ids == nil {
				ids = []int32{}
			}
			return jsonOut(e.stdout, ids)
		}
		for i, id := range enc.IDs {
			off := enc.Offsets[i]
			fmt.Fprintf(e.stdout, "%6d  %-20s %d..%d\n", id, strconv.Quote(tok.Token(id)), off[0], off[1])
		}
		if enc.Truncated > 0 {
			fmt.Fprintf(e.stdout, "(%d tokens truncated at the model's maximum length %d)\n", enc.Truncated, tok.MaxLength())
		}
		return nil
	}
}
