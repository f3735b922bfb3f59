package runner

import (
	"bytes"
	"os"
	"sync"
	"syscall"

	"github.com/lambdabridge/lambdabridge/metric"
)

// lineReader reads one output stream of an environment and hands it to the
// log sink line by line. It reads the pipe itself (non-blocking, under mu) so
// that drained can tell when every byte written so far has been delivered.
// A line longer than the maximum is delivered in pieces; bytes are passed as
// they are (invalid UTF-8 included); a last line without newline is
// delivered at EOF.
type lineReader struct {
	e      *env
	stream string
	f      *os.File
	rc     syscall.RawConn
	max    int
	done   chan struct{}

	mu   sync.Mutex
	pend []byte
	buf  []byte
}

func newLineReader(e *env, stream string, f *os.File) *lineReader {
	l := &lineReader{e: e, stream: stream, f: f, max: e.f.r.cfg.maxLine, done: make(chan struct{})}
	l.rc, _ = f.SyscallConn()
	return l
}

func (l *lineReader) run() {
	defer close(l.done)
	defer l.f.Close()
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
