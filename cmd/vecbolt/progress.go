package main

import (
	"fmt"
	"io"
	"time"
)

// progress draws a one-line progress indicator on a terminal. A nil
// *progress draws nothing, so callers need no terminal checks of their own.
type progress struct {
	w      io.Writer
	label  string
	total  int64 // bytes or items; -1 when unknown
	bytes  int64
	docs   int
	start  time.Time
	last   time.Time
	drawn  bool
	isDocs bool // total counts documents, not bytes
}

func newProgress(w io.Writer, label string, totalBytes int64) *progress {
	return &progress{w: w, label: label, total: totalBytes, start: time.Now()}
}

// newDocProgress counts documents out of total.
func newDocProgress(w io.Writer, label string, total int) *progress {
	return &progress{w: w, label: label, total: int64(total), start: time.Now(), isDocs: true}
}

// update records bytes read (negative: unchanged) and documents done, and
// redraws at most ten times a second.
func (p *progress) update(bytes int64, docs int) {
	if p == nil {
		return
	}
	if bytes >= 0 {
		p.bytes = bytes
	}
	p.docs = docs
	if time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.draw()
}

func (p *progress) draw() {
	p.last = time.Now()
	p.drawn = true
	rate := float64(p.docs) / max(time.Since(p.start).Seconds(), 1e-3)
	switch {
	case p.isDocs && p.total > 0:
		fmt.Fprintf(p.w, "\r\x1b[K%s: %d/%d documents (%d%%), %.0f/s", p.label, p.docs, p.total, int64(p.docs)*100/p.total, rate)
	case p.total > 0:
		fmt.Fprintf(p.w, "\r\x1b[K%s: %d documents, %d%% of %.1f MB, %.0f/s", p.label, p.docs, p.bytes*100/p.total, float64(p.total)/1e6, rate)
	default:
		fmt.Fprintf(p.w, "\r\x1b[K%s: %d documents, %.1f MB read, %.0f/s", p.label, p.docs, float64(p.bytes)/1e6, rate)
	}
}

// clear erases the line so that a message can be printed.
func (p *progress) clear() {
	if p == nil || !p.drawn {
		return
	}
	fmt.Fprint(p.w, "\r\x1b[K")
	p.drawn = false
}

// finish draws the final state and ends the line.
func (p *progress) finish() {
	if p == nil {
		return
	}
	p.draw()
	fmt.Fprintln(p.w)
}
