package logline

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestScan(t *testing.T) {
	huge := strings.Repeat("x", 200_000)
	tests := []struct {
		name string
		in   string
		max  int
		want []Line
	}{
		{"empty", "", 0, nil},
		{"no final newline", "a\nb", 0, []Line{{Num: 1, Bytes: []byte("a"), Size: 1}, {Num: 2, Bytes: []byte("b"), Size: 1}}},
		{"crlf and blank lines", "a\r\n\r\nb\n", 0, []Line{{Num: 1, Bytes: []byte("a"), Size: 2}, {Num: 2, Bytes: []byte{}, Size: 1}, {Num: 3, Bytes: []byte("b"), Size: 1}}},
		{"invalid utf-8 kept", "\xff\xfe ok\n", 0, []Line{{Num: 1, Bytes: []byte("\xff\xfe ok"), Size: 5}}},
		{"huge line within max", "a\n" + huge + "\nb\n", 0, []Line{
			{Num: 1, Bytes: []byte("a"), Size: 1}, {Num: 2, Bytes: []byte(huge), Size: len(huge)}, {Num: 3, Bytes: []byte("b"), Size: 1}}},
		{"huge line truncated, neighbours kept", "a\n" + huge + "\nb", 1000, []Line{
			{Num: 1, Bytes: []byte("a"), Size: 1}, {Num: 2, Bytes: []byte(huge[:1000]), Size: len(huge), Truncated: true}, {Num: 3, Bytes: []byte("b"), Size: 1}}},
		{"huge last line without newline", "a\n" + huge, 1000, []Line{
			{Num: 1, Bytes: []byte("a"), Size: 1}, {Num: 2, Bytes: []byte(huge[:1000]), Size: len(huge), Truncated: true}}},
		{"short line over a small max", "abcdef\nz\n", 3, []Line{
			{Num: 1, Bytes: []byte("abc"), Size: 6, Truncated: true}, {Num: 2, Bytes: []byte("z"), Size: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []Line
			err := Scan(strings.NewReader(tt.in), tt.max, func(l Line) error {
				l.Bytes = bytes.Clone(l.Bytes)
				got = append(got, l)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Scan lines (-want +got):\n%s", diff)
			}
		})
	}
}

func TestScanStopsOnErrors(t *testing.T) {
	boom := errors.New("boom")
	n := 0
	err := Scan(strings.NewReader("a\nb\nc\n"), 0, func(Line) error { n++; return boom })
	if !errors.Is(err, boom) || n != 1 {
		t.Fatalf("Scan = %v after %d lines, want boom after 1", err, n)
	}
	err = Scan(io.MultiReader(strings.NewReader("a\n"), errReader{}), 0, func(Line) error { return nil })
	if !errors.Is(err, errRead) {
		t.Fatalf("Scan = %v, want read error", err)
	}
}

var errRead = errors.New("read failed")

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errRead }
