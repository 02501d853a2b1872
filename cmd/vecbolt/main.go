// Command vecbolt is the command-line tool for vecbolt databases: add and
// import documents, search them by meaning with metadata filters, inspect,
// check, back up and compact a database file, and run a self-contained demo.
//
// Conventions every command follows:
//   - Exit status 0 on success, 1 on a runtime error, 2 on a usage error,
//     128+N when stopped by signal N (130 for SIGINT, 143 for SIGTERM).
//   - SIGINT and SIGTERM stop any command cleanly at its next safe point,
//     including while it waits on stdin, a FIFO or another process's lock:
//     nothing half-done is committed (import keeps the batches it had
//     committed, and says how many), the file's lock is released, and the
//     error line says "stopped by SIGINT". A second signal kills at once,
//     which is safe as well (commits are atomic).
//   - The exit status says whether a write happened: 0 means every change
//     the command reported is committed; 1 from add, delete or reembed
//     means no document was changed (import says how many documents it
//     committed before the failure, and exits 1 when it rejected any line,
//     even with --skip-bad, saying how many it stored and rejected). Closing the file after a successful command may fail,
//     typically writing the index snapshot on a full disk; that loses no
//     write (the snapshot is a cache of the documents), so it is a warning
//     on stderr and the status stays 0.
//   - Results go to stdout; errors go to stderr as one line starting with
//     "vecbolt: " (usage errors add a short usage hint). With --json the
//     whole of stdout is one JSON value.
//   - Commands that only read (search, get, list, count, export, stats,
//     collections, check, backup, compact to OUT, similar, recommend,
//     classify) open the file read-only,
//     so they never create a file by
//     accident and can run beside each other; commands that only read
//     documents never load a model.
//   - Flags may come before or after the positional arguments; "--" ends
//     the flags (for a text starting with "-").
//   - A command that finds a collection's index snapshot damaged still
//     works: the index is rebuilt from the documents, with a note on
//     stderr (and progress on a terminal); a writable command then stores
//     a good snapshot, and `reindex` does so on demand.
//   - JSON input (import lines, --meta key:=JSON, --vector) is read
//     strictly: an escape that encodes no character (\ud800) is an error,
//     never silently U+FFFD. import's memory is bounded by its line limit
//     and its batch budget (see `vecbolt help import`), not by the file.
//
// Every operation on documents is the library's (package db): the
// commands parse flags, call db and print; import and export are
// db.Collection.Import and Export, list is Scan, count is Count, and
// delete --where is DeleteWhere.
//
// The entry point is run, which takes its arguments, streams and options
// explicitly so that tests drive the whole tool in-process. The argument
// parsing uses the standard flag package, wrapped to allow interspersed
// flags: no third-party CLI library is needed for a dozen commands.
// Each command registers its flags in one function that both run and help
// call, so `vecbolt help CMD` lists exactly the flags CMD parses, each
// with its usage string.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/vecbolt/vecbolt/db"
	"github.com/vecbolt/vecbolt/embedder"
	"github.com/vecbolt/vecbolt/embedder/models"
)

// Exit statuses.
const (
	exitOK      = 0
	exitRuntime = 1
	exitUsage   = 2
)

func main() {
	ctx, stop := notifySignals(context.Background())
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// env is one invocation: its streams and the options tests may set.
type env struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer

	// emb replaces the default embedder when embSet (tests).
	emb    embedder.Embedder
	embSet bool
	// builtin returns the built-in model (tokenize without --model).
	builtin func() (embedder.Embedder, error)
	// terminal reports whether progress output may be drawn on stderr.
	terminal bool
	// modelOpts are added to --model's models.Load (tests: a model cache
	// and registry entries of their own).
	modelOpts []models.Option
}

// option configures run; only tests pass any.
type option func(*env)

// withEmbedder makes commands use e instead of the default model when no
// --model is given.
func withEmbedder(e embedder.Embedder) option {
	return func(v *env) { v.emb, v.embSet = e, true }
}

// withTerminal pretends stderr is (or is not) a terminal.
func withTerminal(on bool) option { return func(v *env) { v.terminal = on } }

// withModelOptions passes opts to models.Load for every --model.
func withModelOptions(opts ...models.Option) option {
	return func(v *env) { v.modelOpts = append(v.modelOpts, opts...) }
}

// withBuiltin replaces the built-in model lookup.
func withBuiltin(f func() (embedder.Embedder, error)) option {
	return func(v *env) { v.builtin = f }
}

// run executes one vecbolt command line (without the program name) and
// returns the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, opts ...option) int {
	e := &env{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr, builtin: builtinModel}
	if f, ok := stderr.(*os.File); ok {
		e.terminal = term.IsTerminal(int(f.Fd()))
	}
	for _, o := range opts {
		o(e)
	}
	if len(args) == 0 {
		fmt.Fprintln(stderr, "vecbolt: no command given")
		printOverview(stderr)
		return exitUsage
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		return e.help(rest)
	}
	cmd := findCommand(name)
	if cmd == nil {
		fmt.Fprintf(stderr, "vecbolt: unknown command %q\nRun 'vecbolt help' for the list of commands.\n", oneLine(name))
		return exitUsage
	}
	err := cmd.run(e, rest)
	return e.report(cmd, err)
}

// report prints err as the command's failure and returns the exit status.
func (e *env) report(cmd *command, err error) int {
	if err == nil {
		return exitOK
	}
	if errors.Is(err, errHelp) {
		fmt.Fprint(e.stdout, cmd.helpText())
		return exitOK
	}
	if i := interruption(e.ctx); i != nil {
		fmt.Fprintf(e.stderr, "vecbolt: %s\n", stoppedMessage(i, err))
		return i.exitStatus()
	}
	fmt.Fprintf(e.stderr, "vecbolt: %s\n", errorLine(err))
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(e.stderr, "usage: vecbolt %s %s\nRun 'vecbolt help %s' for details.\n", cmd.name, cmd.args, cmd.name)
		return exitUsage
	}
	return exitRuntime
}

// errorLine formats an error as one line without a repeated program prefix.
func errorLine(err error) string {
	s := err.Error()
	for _, p := range []string{"vecbolt: ", "storage: "} {
		s = strings.TrimPrefix(s, p)
	}
	return oneLine(s)
}

// oneLine flattens s for a one-line message: line breaks become "; ",
// other unsafe runes are escaped (an error may quote a path or a parser's
// input raw), and the length is capped.
func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "; ")
	s = strings.ReplaceAll(s, "\n", "; ")
	s = strings.ReplaceAll(s, "\r", " ")
	return escapeText(capLine(s, maxErrorLine))
}

// usageError marks a mistake in the command line (exit status 2).
type usageError struct{ msg string }

func (u *usageError) Error() string { return u.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// errHelp means -h was given: print the command's help, exit 0.
var errHelp = errors.New("help requested")

// command is one subcommand.
type command struct {
	name    string
	args    string // synopsis after the name
	summary string
	help    string // details after the synopsis; the flags are listed after them
	// flags registers the command's flags on fs and returns what runs the
	// command once fs has parsed the command line. help calls it too, on a
	// flag set it never parses, and lists what it registered: the flags
	// help shows are the flags the command parses, each with its usage.
	flags func(fs *flag.FlagSet) func(e *env, pos []string) error
}

// run parses args with the command's flags and runs it.
func (c *command) run(e *env, args []string) error {
	fs := c.flagSet()
	exec := c.flags(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	return exec(e, pos)
}

// flagSet returns an empty flag set for the command.
func (c *command) flagSet() *flag.FlagSet { return newFlagSet(c.name) }

func (c *command) helpText() string {
	fs := c.flagSet()
	c.flags(fs)
	var b strings.Builder
	fmt.Fprintf(&b, "usage: vecbolt %s %s\n\n%s\n\n%s", c.name, c.args, c.summary, strings.TrimLeft(c.help, "\n"))
	if !strings.HasSuffix(c.help, "\n") {
		b.WriteString("\n")
	}
	b.WriteString("\nFlags:\n")
	writeFlags(&b, fs)
	return b.String()
}

// Layout of a flag listing: names in a column of flagColumn characters
// (after a two-space indent), usage wrapped to helpWidth.
const (
	flagColumn = 19
	helpWidth  = 100
)

// writeFlags lists fs's flags the way the flag package's PrintDefaults
// does but with two dashes: --db and --collection first, --model and
// --lock-timeout last, the others by name in between. A backquoted name
// in the usage is the value's placeholder ("collection `NAME`" gives
// "--collection NAME"), and a non-zero default is appended unless the
// usage already says what the default is.
func writeFlags(w io.Writer, fs *flag.FlagSet) {
	var flags []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) { flags = append(flags, f) })
	rank := func(f *flag.Flag) int {
		switch f.Name {
		case "db":
			return 0
		case "collection":
			return 1
		case "model":
			return 3
		case "lock-timeout":
			return 4
		}
		return 2
	}
	// VisitAll gave them by name; a stable sort keeps that within a rank.
	slices.SortStableFunc(flags, func(a, b *flag.Flag) int { return rank(a) - rank(b) })
	for _, f := range flags {
		name, usage := flag.UnquoteUsage(f)
		head := "--" + f.Name
		if name != "" {
			head += " " + name
		}
		if !strings.Contains(usage, "default") && !isZeroDefault(f) {
			usage += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		indent := strings.Repeat(" ", 2+flagColumn+2)
		line := fmt.Sprintf("  %-*s  ", flagColumn, head)
		if len(head) > flagColumn {
			fmt.Fprintf(w, "  %s\n", head)
			line = indent
		}
		for i, word := range strings.Fields(usage) {
			if i > 0 && len(line)+1+len(word) > helpWidth {
				fmt.Fprintln(w, strings.TrimRight(line, " "))
				line = indent
			} else if i > 0 {
				line += " "
			}
			line += word
		}
		fmt.Fprintln(w, line)
	}
}

// isZeroDefault reports whether f's default is its type's zero value,
// which help leaves unsaid.
func isZeroDefault(f *flag.Flag) bool {
	switch f.DefValue {
	case "", "false", "0", "0s":
		return true
	}
	return false
}

// commands lists the subcommands in the order help shows them.
func commands() []*command {
	return []*command{
		addCommand(), addFilesCommand(), importCommand(), exportCommand(), searchCommand(), getCommand(),
		listCommand(), countCommand(), deleteCommand(), collectionsCommand(), statsCommand(), reembedCommand(), reindexCommand(),
		checkCommand(), backupCommand(), compactCommand(), contextCommand(), demoCommand(), tokenizeCommand(), modelsCommand(),
		embedCommand(), similarityCommand(), similarCommand(), recommendCommand(), classifyCommand(),
		outliersCommand(), duplicatesCommand(),
		clusterCommand(), mapCommand(),
	}
}

func findCommand(name string) *command {
	for _, c := range commands() {
		if c.name == name {
			return c
		}
	}
	return nil
}

func printOverview(w io.Writer) {
	fmt.Fprint(w, "usage: vecbolt COMMAND [flags] [args]\n\nvecbolt is an embedded vector database: one file, search by meaning, offline.\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, "\nRun 'vecbolt help COMMAND' (or 'vecbolt COMMAND -h') for a command's flags.\nExit status: 0 success, 1 runtime error, 2 usage error, 130/143 stopped by SIGINT/SIGTERM.\n")
}

func (e *env) help(args []string) int {
	switch len(args) {
	case 0:
		printOverview(e.stdout)
		return exitOK
	case 1:
		if c := findCommand(args[0]); c != nil {
			fmt.Fprint(e.stdout, c.helpText())
			return exitOK
		}
		fmt.Fprintf(e.stderr, "vecbolt: unknown command %q\nRun 'vecbolt help' for the list of commands.\n", oneLine(args[0]))
		return exitUsage
	default:
		fmt.Fprintln(e.stderr, "vecbolt: help takes at most one command name\nusage: vecbolt help [COMMAND]")
		return exitUsage
	}
}

// newFlagSet returns a flag set that reports errors instead of printing or
// exiting.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseFlags parses args allowing flags and positional arguments in any
// order, and returns the positional ones. "--" ends flag parsing.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	rest := args
	for {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, errHelp
			}
			msg := err.Error()
			if rest, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
				msg = "unknown flag " + rest
			}
			return nil, usagef("%s", msg)
		}
		left := fs.Args()
		if len(left) == 0 {
			return pos, nil
		}
		consumed := len(rest) - len(left)
		if consumed > 0 && rest[consumed-1] == "--" {
			// flag stops after "--": everything left is positional.
			return append(pos, left...), nil
		}
		pos = append(pos, left[0])
		rest = left[1:]
	}
}

// dbFlags are the flags shared by commands that open a database.
type dbFlags struct {
	path        string
	model       string
	lockTimeout time.Duration
}

func (f *dbFlags) register(fs *flag.FlagSet, withModel bool) {
	fs.StringVar(&f.path, "db", "", "database `FILE`")
	fs.DurationVar(&f.lockTimeout, "lock-timeout", 2*time.Second, "wait up to `D` for another process to release the file")
	if withModel {
		fs.StringVar(&f.model, "model", "", modelUsage)
	}
}

// openMode says what a command needs of the database.
type openMode int

const (
	// readDocs opens read-only without loading a model.
	readDocs openMode = iota
	// readText opens read-only with the model (text search).
	readText
	// writeDocs opens for writing without a model (delete).
	writeDocs
	// writeText opens for writing with the model (add, import, reembed).
	writeText
)

// open opens the database for a command. The returned func closes it and
// any model it loaded. A close error after a successful command is a
// warning, not a failure: every write the command reported was committed
// (and fsynced) before, and what Close writes, the index snapshot, is a
// cache. Failing then would tell a script that retries on a non-zero
// status to repeat a write that happened (an add without --id would be
// stored twice).
func (e *env) open(f *dbFlags, mode openMode) (*db.DB, func(*error), error) {
	if f.path == "" {
		return nil, nil, usagef("--db FILE is required")
	}
	if f.lockTimeout < 0 {
		return nil, nil, usagef("--lock-timeout %v must not be negative", f.lockTimeout)
	}
	opts := []db.Option{db.WithLockTimeout(f.lockTimeout)}
	if f.lockTimeout == 0 {
		// The user asked not to wait; db treats 0 as its default.
		opts = []db.Option{db.WithLockTimeout(-1)}
	}
	if mode == readDocs || mode == readText {
		if _, err := os.Stat(f.path); err != nil {
			return nil, nil, fmt.Errorf("database %s: %w", f.path, errors.Unwrap(err))
		}
		opts = append(opts, db.ReadOnly())
	}
	opts = append(opts, e.recoveryLog(f.path, mode == readDocs || mode == readText))
	opts = append(opts, e.fullTextBuildLog())
	var model closer
	switch {
	case mode == readDocs || mode == writeDocs:
		opts = append(opts, db.WithEmbedder(nil))
	case f.model != "":
		m, err := loadModel(e, f.model)
		if err != nil {
			return nil, nil, err
		}
		model, _ = m.(closer)
		opts = append(opts, db.WithEmbedder(m))
	case e.embSet:
		opts = append(opts, db.WithEmbedder(e.emb))
	}
	d, err := openDB(e.ctx, f.path, opts...)
	if err != nil {
		if model != nil {
			model.Close()
		}
		if errors.Is(err, db.ErrLocked) {
			// db's message says who holds the file and what to do; the
			// CLI adds its own knob for the waiting.
			err = fmt.Errorf("%w; --lock-timeout sets how long vecbolt waits", err)
		}
		return nil, nil, err
	}
	done := func(errp *error) {
		err := d.Close()
		if model != nil {
			err = errors.Join(err, model.Close())
		}
		if err != nil && *errp == nil {
			e.warnClose(f.path, mode, err)
		}
	}
	return d, done, nil
}

// warnClose reports a failure to close the database after the command
// succeeded.
func (e *env) warnClose(path string, mode openMode, err error) {
	note := ""
	switch {
	case mode != writeDocs && mode != writeText:
	case errors.Is(err, db.ErrSnapshot):
		note = " (the changes are stored; the next open re-indexes them)"
	default:
		note = " (the changes are stored)"
	}
	fmt.Fprintf(e.stderr, "vecbolt: warning: closing %s: %s%s\n", oneLine(path), errorLine(err), note)
}

// openDB is db.Open giving way to ctx: waiting for another process's lock
// (up to --lock-timeout, which may be long) must not outlast a Ctrl-C. An
// open that completes after ctx gave up is closed at once.
func openDB(ctx context.Context, path string, opts ...db.Option) (*db.DB, error) {
	type opened struct {
		d   *db.DB
		err error
	}
	ch := make(chan opened, 1)
	go func() {
		d, err := db.Open(path, opts...)
		ch <- opened{d, err}
	}()
	select {
	case o := <-ch:
		return o.d, o.err
	case <-ctx.Done():
		go func() {
			if o := <-ch; o.d != nil {
				o.d.Close()
			}
		}()
		return nil, fmt.Errorf("opening %s: %w", path, ctx.Err())
	}
}

// setUsage rewords a shared flag's help line for one command (add creates
// the file that search only reads).
func setUsage(fs *flag.FlagSet, name, usage string) {
	fs.Lookup(name).Usage = usage
}
