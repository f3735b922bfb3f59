package logline

import (
	"bufio"
	"errors"
	"io"
)

// DefaultMaxLine is the longest line Scan hands over whole: CloudWatch
// Logs' largest event (1 MiB) plus room for a Lambda log prefix.
const DefaultMaxLine = 1<<20 + 4096

// Line is one line read by Scan.
type Line struct {
	Num   int    // 1-based line number
	Bytes []byte // the line without its newline (and trailing \r); valid until fn returns
	// Truncated is true when the line was longer than the maximum: Bytes
	// holds its first max bytes and the rest was skipped.
	Truncated bool
	// Size is the full length of the line, also when truncated.
	Size int
}

// Scan reads r line by line and calls fn for each line, including a last
// line without a newline. Unlike bufio.Scanner it never stops at a long
// line: a line over max bytes is handed over truncated and flagged, and the
// lines after it are read as usual. Bytes are passed through as they are
// (invalid UTF-8 included). max <= 0 means DefaultMaxLine. Scan stops at the
// first error of r (other than io.EOF) or of fn, and returns it.
func Scan(r io.Reader, max int, fn func(Line) error) error {
	if max <= 0 {
		max = DefaultMaxLine
	}
	br := bufio.NewReaderSize(r, 64<<10)
	var acc []byte // the kept part of a line longer than the reader's buffer
	size, num := 0, 0
	for {
		chunk, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			size += len(chunk)
			acc = appendCapped(acc, chunk, max)
			continue
		}
		if len(chunk) > 0 || size > 0 {
			num++
			line := chunk
			if size > 0 {
				acc = appendCapped(acc, chunk, max)
				line = acc
			}
			size += len(chunk)
			if len(chunk) > 0 && chunk[len(chunk)-1] == '\n' {
				size--
			}
			line = trimEOL(line)
			if len(line) > max {
				line = line[:max]
			}
			l := Line{Num: num, Bytes: line, Size: size, Truncated: size > max}
			acc, size = acc[:0], 0
			if e := fn(l); e != nil {
				return e
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

func appendCapped(dst, src []byte, max int) []byte {
	room := max - len(dst)
	if room <= 0 {
		return dst
	}
	if len(src) > room {
		src = src[:room]
	}
	return append(dst, src...)
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}
