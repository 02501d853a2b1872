package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// SIGINT and SIGTERM cancel the command's context; every command stops at
// its next safe point: a transaction in progress is not committed (import
// keeps the batches it committed and says how many), and the process exits
// with 128 + the signal's number, as a shell reports a command the signal
// killed. Reads that can block for ever (stdin, a FIFO) and the wait for
// the file's lock run on goroutines that the context can abandon. A second
// signal kills the process at once, for anything that does not stop: that
// is safe too, since a commit is atomic and durable.

// interrupted is the cause of a context cancelled by a signal.
type interrupted struct{ sig syscall.Signal }

func (i *interrupted) Error() string { return "stopped by " + signalName(i.sig) }

// signalName names the signals vecbolt stops on.
func signalName(s syscall.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}

// exitStatus is the status of a command stopped by a signal.
func (i *interrupted) exitStatus() int { return 128 + int(i.sig) }

// notifySignals returns a context cancelled (with an *interrupted cause)
// by the first SIGINT or SIGTERM, and a func that stops listening.
func notifySignals(parent context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-sigs:
			// Back to the default action: a second signal kills.
			signal.Reset(syscall.SIGINT, syscall.SIGTERM)
			cancel(&interrupted{sig: s.(syscall.Signal)})
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel(nil)
	}
}

// interruption returns the signal that cancelled ctx, if one did.
func interruption(ctx context.Context) *interrupted {
	var i *interrupted
	if errors.As(context.Cause(ctx), &i) {
		return i
	}
	return nil
}

// stoppedMessage is the error line of a command stopped by a signal: the
// signal and what the command says it left done, without the bare
// "context canceled" the library's errors end with.
func stoppedMessage(i *interrupted, err error) string {
	msg := errorLine(err)
	for _, c := range []string{context.Canceled.Error(), i.Error()} {
		msg = strings.TrimSuffix(strings.TrimSuffix(msg, c), ": ")
	}
	if msg == "" {
		return i.Error()
	}
	return i.Error() + ": " + msg
}

// readResult is one Read of a ctxReader's source.
type readResult struct {
	b   []byte
	err error
}

// ctxReader reads its source on a goroutine, so that a Read waiting on a
// pipe or a terminal returns ctx's error as soon as ctx is done. The
// goroutine's read in progress is abandoned then; it ends when the source
// does (the process exits, or the test closes the pipe).
type ctxReader struct {
	ctx  context.Context
	ch   <-chan readResult
	quit chan struct{} // closed when the reader gives up
	cur  []byte
	err  error
}

// newCtxReader starts reading r ahead, one 64 KiB chunk at a time.
func newCtxReader(ctx context.Context, r io.Reader) *ctxReader {
	ch := make(chan readResult)
	quit := make(chan struct{})
	go func() {
		for {
			b := make([]byte, 64<<10)
			n, err := r.Read(b)
			select {
			case ch <- readResult{b[:n], err}:
			case <-quit:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return &ctxReader{ctx: ctx, ch: ch, quit: quit}
}

func (c *ctxReader) Read(p []byte) (int, error) {
	for len(c.cur) == 0 {
		if c.err != nil {
			return 0, c.err
		}
		select {
		case <-c.ctx.Done():
			c.err = c.ctx.Err()
			close(c.quit)
			return 0, c.err
		case res := <-c.ch:
			c.cur, c.err = res.b, res.err
		}
	}
	n := copy(p, c.cur)
	c.cur = c.cur[n:]
	return n, nil
}

// openInput opens an input file; the open itself may block (a FIFO waits
// for a writer), so it gives way to ctx like a read.
func openInput(ctx context.Context, path string) (*os.File, error) {
	type opened struct {
		f   *os.File
		err error
	}
	ch := make(chan opened, 1)
	go func() {
		f, err := os.Open(path)
		ch <- opened{f, err}
	}()
	select {
	case o := <-ch:
		return o.f, o.err
	case <-ctx.Done():
		go func() {
			if o := <-ch; o.f != nil {
				o.f.Close()
			}
		}()
		return nil, fmt.Errorf("opening %s: %w", path, ctx.Err())
	}
}
