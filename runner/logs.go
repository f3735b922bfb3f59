package runner

import (
	"bytes"
	"errors"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/lambdabridge/lambdabridge/metric"
)

// lineReader reads one output stream of an environment and hands it to the
// log sink line by line. It reads the pipe itself (non-blocking, under mu) so
// that drained can tell when every byte written so far has been delivered.
// A line longer than the maximum is delivered in pieces; bytes are passed as
// they are (invalid UTF-8 included); a last line without newline is
// delivered at EOF.
//
// A process outside the environment can keep the pipe open after the
// environment ended, so the reader may be told to stop (stop): it then
// delivers what is in the pipe, however slow the sink, and stops at the
// first moment the pipe is empty. Only a writer that keeps the pipe full
// beyond stopBudget loses bytes, and those are counted (dropped).
type lineReader struct {
	e      *env
	stream string
	f      *os.File
	rc     syscall.RawConn
	max    int
	budget int // stopBudget; smaller in tests
	done   chan struct{}

	mu      sync.Mutex
	pend    []byte
	buf     []byte
	dropped int64 // bytes left in the pipe when it was closed; valid after done
}

// stopBudget is how many bytes beyond those in the pipe when it stops a
// reader still delivers, so that a writer that never stops cannot keep it.
const stopBudget = 4 << 20

func newLineReader(e *env, stream string, f *os.File) *lineReader {
	l := &lineReader{e: e, stream: stream, f: f, max: e.f.r.cfg.maxLine, budget: stopBudget, done: make(chan struct{})}
	l.rc, _ = f.SyscallConn()
	return l
}

func (l *lineReader) run() {
	defer close(l.done)
	defer func() {
		l.f.Close()
		if l.dropped > 0 {
			l.e.f.logDropped(l.e, l.stream, l.dropped)
		}
	}()
	l.buf = make([]byte, 64<<10)
	if l.rc == nil {
		return
	}
	for {
		var n int
		var rerr error
		err := l.rc.Read(func(fd uintptr) bool {
			l.mu.Lock()
			defer l.mu.Unlock()
			n, rerr = syscall.Read(int(fd), l.buf)
			if rerr == syscall.EAGAIN || rerr == syscall.EINTR {
				return false
			}
			if n > 0 {
				l.feed(l.buf[:n])
			}
			return true
		})
		if errors.Is(err, os.ErrDeadlineExceeded) {
			l.drainRest()
		}
		if err != nil || rerr != nil || n <= 0 {
			l.mu.Lock()
			if len(l.pend) > 0 {
				l.emit(l.pend)
				l.pend = l.pend[:0]
			}
			l.mu.Unlock()
			return
		}
	}
}

// stop makes the reader deliver what the pipe holds and end, without
// waiting for EOF. It returns at once; done is closed when the reader ends.
func (l *lineReader) stop() { l.f.SetReadDeadline(time.Now()) }

// drainRest delivers what the pipe holds after stop, up to stopBudget
// bytes more than it held then, and counts what is left as dropped.
func (l *lineReader) drainRest() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rc.Control(func(fd uintptr) {
		budget := pendingBytes(fd) + l.budget
		for budget > 0 {
			n, err := syscall.Read(int(fd), l.buf[:min(len(l.buf), budget)])
			if err == syscall.EINTR {
				continue
			}
			if n <= 0 {
				return // EOF, empty (EAGAIN) or broken
			}
			l.feed(l.buf[:n])
			budget -= n
		}
		l.dropped = int64(pendingBytes(fd))
	})
}

// feed splits p into lines; called with mu held.
func (l *lineReader) feed(p []byte) {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			for len(l.pend)+len(p) > l.max {
				room := l.max - len(l.pend)
				l.pend = append(l.pend, p[:room]...)
				l.emit(l.pend)
				l.pend = l.pend[:0]
				p = p[room:]
			}
			l.pend = append(l.pend, p...)
			return
		}
		line := p[:i]
		p = p[i+1:]
		if len(l.pend) > 0 {
			l.pend = append(l.pend, line...)
			line = l.pend
			l.pend = l.pend[:0]
		}
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		for len(line) > l.max {
			l.emit(line[:l.max])
			line = line[l.max:]
		}
		l.emit(line)
	}
}

func (l *lineReader) emit(line []byte) {
	e := l.e
	name := e.f.def.Name
	o := metric.Origin{Source: name, Line: int(e.lineNo.Add(1)), Function: name, Environment: e.id, RequestID: *e.reqID.Load()}
	e.f.r.line(o, l.stream, line)
	if t := e.tail.Load(); t != nil {
		t.add(line)
	}
}

// drained reports whether every byte written to the pipe so far has been
// read and delivered.
func (l *lineReader) drained() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-l.done:
		return true
	default:
	}
	n := 0
	if err := l.rc.Control(func(fd uintptr) { n = pendingBytes(fd) }); err != nil {
		return true
	}
	return n == 0
}
