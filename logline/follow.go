package logline

import (
	"context"
	"io"
	"os"
	"time"
)

// Follow opens the file at path and returns a reader that, like `tail -F`,
// waits for more data at the end of the file instead of returning io.EOF,
// starts over when the file is truncated or replaced (log rotation), and
// returns io.EOF only when ctx ends. poll <= 0 means 250 ms. Written here
// rather than taken from a library because polling os.Stat is all it takes
// and keeps the dependency tree small.
func Follow(ctx context.Context, path string, poll time.Duration) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if poll <= 0 {
		poll = 250 * time.Millisecond
	}
	return &follower{ctx: ctx, path: path, f: f, poll: poll}, nil
}

type follower struct {
	ctx  context.Context
	path string
	f    *os.File
	off  int64
	poll time.Duration
}

func (r *follower) Read(p []byte) (int, error) {
	for {
		n, err := r.f.Read(p)
		r.off += int64(n)
		if n > 0 {
			return n, nil
		}
		if err != nil && err != io.EOF {
			return 0, err
		}
		r.reopenIfRotated()
		select {
		case <-r.ctx.Done():
			return 0, io.EOF
		case <-time.After(r.poll):
		}
	}
}

// reopenIfRotated starts over when the file shrank (truncated) or the path
// now names another file (rotated).
func (r *follower) reopenIfRotated() {
	cur, err := r.f.Stat()
	if err != nil {
		return
	}
	if cur.Size() < r.off {
		if _, err := r.f.Seek(0, io.SeekStart); err == nil {
			r.off = 0
		}
		return
	}
	st, err := os.Stat(r.path)
	if err != nil || os.SameFile(st, cur) {
		return
	}
	if nf, err := os.Open(r.path); err == nil {
		r.f.Close()
		r.f, r.off = nf, 0
	}
}

func (r *follower) Close() error { return r.f.Close() }
