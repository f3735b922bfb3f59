package snappy

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	gosnappy "github.com/golang/snappy"
)

// samples are inputs that exercise each element of the format: literals of
// every tag size, copies with one- and two-byte offsets, runs long enough to
// be split into several copies, block boundaries, and input with no match.
func samples() map[string][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	var series bytes.Buffer
	for i := range 3000 {
		fmt.Fprintf(&series, "\n\x08__name__\x12lambda_function_duration_seconds_bucket\x0a\x02le\x12%d\x0a\x08function\x12checkout-%d", i%12, i%7)
	}
	far := append(random(3000), []byte("abcdefgh")...)
	far = append(far, random(10)...)
	far = append(far, []byte("abcdefgh")...) // 8 bytes back 3010+: a short copy with a two-byte offset
	return map[string][]byte{
		"empty":             {},
		"one byte":          {'x'},
		"below match input": []byte("0123456789abcdef"),
		"match input":       []byte("0123456789abcdefg"),
		"zeros":             make([]byte, 1000),
		"run of 65":         append([]byte("x"), bytes.Repeat([]byte("y"), 65+1)...),
		"run of 67":         append([]byte("x"), bytes.Repeat([]byte("y"), 67+1)...),
		"text":              []byte(strings.Repeat("The quick brown fox jumps over the lazy dog. ", 500)),
		"random 100k":       random(100_000),
		"random 59":         random(59),
		"random 60":         random(60),
		"random 300":        random(300),
		"block less one":    bytes.Repeat([]byte("abc"), (blockSize-1)/3),
		"block":             append(bytes.Repeat([]byte("abcd"), blockSize/4-1), "wxyz"...),
		"block plus one":    append(bytes.Repeat([]byte("abcd"), blockSize/4), 'q'),
		"three blocks":      bytes.Repeat(random(1000), 3*blockSize/1000+1),
		"long literal":      append(random(70_000), bytes.Repeat([]byte("z"), 100)...),
		"far short copy":    far,
		"series":            series.Bytes(),
	}
}

func TestEncodeDecodes(t *testing.T) {
	for name, src := range samples() {
		t.Run(name, func(t *testing.T) {
			out := Encode(nil, src)
			if len(out) > MaxEncodedLen(len(src)) {
				t.Fatalf("%d bytes written, MaxEncodedLen(%d) = %d", len(out), len(src), MaxEncodedLen(len(src)))
			}
			got, err := gosnappy.Decode(nil, out)
			if err != nil {
				t.Fatalf("github.com/golang/snappy cannot decode it: %v", err)
			}
			if !bytes.Equal(got, src) {
				t.Fatalf("decoded %d bytes, not the %d encoded", len(got), len(src))
			}
		})
	}
}

// TestEncodeCompresses checks the encoder finds what the reference one does
// on compressible input (a toy that wrote only literals would pass the round
// trip).
func TestEncodeCompresses(t *testing.T) {
	for _, name := range []string{"zeros", "text", "series", "three blocks"} {
		src := samples()[name]
		ours, ref := len(Encode(nil, src)), len(gosnappy.Encode(nil, src))
		if float64(ours) > 1.1*float64(ref) {
			t.Errorf("%s: %d bytes, github.com/golang/snappy %d", name, ours, ref)
		}
		t.Logf("%s: %d bytes -> %d (github.com/golang/snappy %d)", name, len(src), ours, ref)
	}
}

func TestEncodeUsesDst(t *testing.T) {
	src := samples()["series"]
	dst := make([]byte, MaxEncodedLen(len(src)))
	if out := Encode(dst, src); &out[0] != &dst[0] {
		t.Fatal("Encode allocated although dst had room")
	}
	if n := testing.AllocsPerRun(20, func() { Encode(dst, src) }); n != 0 {
		t.Fatalf("%v allocations per Encode with room in dst", n)
	}
}

func FuzzEncode(f *testing.F) {
	for _, s := range samples() {
		if len(s) < 4096 {
			f.Add(s)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		got, err := gosnappy.Decode(nil, Encode(nil, src))
		if err != nil || !bytes.Equal(got, src) {
			t.Fatalf("round trip of %q: %q, %v", src, got, err)
		}
	})
}

// BenchmarkEncode runs the encoder beside github.com/golang/snappy's (with
// its assembly on amd64 and arm64) on a remote_write-like protobuf.
func BenchmarkEncode(b *testing.B) {
	src := samples()["series"]
	dst := make([]byte, MaxEncodedLen(len(src)))
	b.Run("lambdabridge", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(src)))
		for b.Loop() {
			Encode(dst, src)
		}
	})
	b.Run("golang-snappy", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(src)))
		for b.Loop() {
			gosnappy.Encode(dst, src)
		}
	})
}
