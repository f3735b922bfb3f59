// Package snappy writes the Snappy block format, the compression remote_write
// requires of a request body (Content-Encoding: snappy, without the framing
// format's chunks and checksums).
//
//	out := snappy.Encode(buf[:cap(buf)], protobuf)
//
// It exists for the Lambda extension's cold start: github.com/golang/snappy
// computes the framing format's CRC-32C tables when its package initializes,
// and remote_write needs no CRC: without it the extension's program took
// 0.5 ms less CPU to start (medians of 400 starts side by side). The encoder is the format's
// usual greedy one (a hash table of 4-byte sequences, 64 KiB blocks, matches
// extended as far as they go); any Snappy decoder reads its output, and tests
// check that with github.com/golang/snappy's.
package snappy

import (
	"encoding/binary"
	"math/bits"
)

const (
	// blockSize is how much input one table covers: copies reach back at
	// most 64 KiB, so their offsets fit two bytes.
	blockSize = 1 << 16
	// tableBits sizes the hash table (positions within a block fit uint16).
	tableBits = 14
	// minMatchInput is the shortest block worth looking for matches in;
	// inputMargin keeps the 4-byte loads inside the block.
	minMatchInput = 17
	inputMargin   = 15
)

// MaxEncodedLen is the most bytes Encode writes for n bytes of input (the
// format's worst case: every literal run's tag, and the length's varint).
func MaxEncodedLen(n int) int { return 32 + n + n/6 }

// Encode compresses src into dst, which it uses when it has room for
// MaxEncodedLen(len(src)) bytes (it allocates otherwise), and returns the
// encoded bytes.
func Encode(dst, src []byte) []byte {
	if n := MaxEncodedLen(len(src)); cap(dst) < n {
		dst = make([]byte, n)
	} else {
		dst = dst[:n]
	}
	d := binary.PutUvarint(dst, uint64(len(src)))
	var table [1 << tableBits]uint16
	for len(src) > 0 {
		block := src[:min(len(src), blockSize)]
		src = src[len(block):]
		if len(block) < minMatchInput {
			d += emitLiteral(dst[d:], block)
			continue
		}
		d += encodeBlock(dst[d:], block, &table)
	}
	return dst[:d]
}

func load32(b []byte, i int) uint32 { return binary.LittleEndian.Uint32(b[i:]) }

func hash(u uint32) uint32 { return (u * 0x1e35a7bd) >> (32 - tableBits) }

// encodeBlock writes one block of at most blockSize bytes and returns how
// many bytes it wrote. The table, cleared for each block, holds positions
// before s (an empty slot is position 0), so a candidate is always behind
// s; its 4 bytes are compared before it is used.
func encodeBlock(dst, src []byte, table *[1 << tableBits]uint16) int {
	clear(table[:])
	d, emitted := 0, 0
	limit := len(src) - inputMargin
	s := 1
	for s < limit {
		// Look for a 4-byte match, stepping further the longer none is
		// found (incompressible input is passed over quickly).
		var cand int
		for misses := 32; ; misses++ {
			cur := load32(src, s)
			h := hash(cur)
			cand = int(table[h])
			table[h] = uint16(s)
			if load32(src, cand) == cur {
				break
			}
			s += misses >> 5
			if s >= limit {
				goto rest
			}
		}
		d += emitLiteral(dst[d:], src[emitted:s])
		// Copy, and go on copying while the next position matches too.
		for {
			start := s
			s = extend(src, cand+4, s+4)
			d += emitCopy(dst[d:], start-cand, s-start)
			emitted = s
			if s >= limit {
				goto rest
			}
			// One load for the position before (into the table) and s.
			x := binary.LittleEndian.Uint64(src[s-1:])
			table[hash(uint32(x))] = uint16(s - 1)
			cur := uint32(x >> 8)
			h := hash(cur)
			cand = int(table[h])
			table[h] = uint16(s)
			if load32(src, cand) != cur {
				s++
				break
			}
		}
	}
rest:
	if emitted < len(src) {
		d += emitLiteral(dst[d:], src[emitted:])
	}
	return d
}

// extend returns where the match of src[i:] at src[s:] (i < s) ends,
// comparing eight bytes at a time.
func extend(src []byte, i, s int) int {
	b := src[s:]
	a := src[i:][:len(b)]
	n := 0
	for ; n <= len(b)-8; n += 8 {
		if x := binary.LittleEndian.Uint64(b[n:n+8]) ^ binary.LittleEndian.Uint64(a[n:n+8]); x != 0 {
			return s + n + bits.TrailingZeros64(x)>>3
		}
	}
	for ; n < len(b) && a[n] == b[n]; n++ {
	}
	return s + n
}

// emitLiteral writes a literal element: its tag (the length less one, in the
// tag's upper six bits up to 59, else in the 1 to 4 bytes after it) and the
// bytes.
func emitLiteral(dst, lit []byte) int {
	n := len(lit) - 1
	i := 1
	switch {
	case n < 60:
		dst[0] = byte(n) << 2
	case n < 1<<8:
		dst[0], dst[1] = 60<<2, byte(n)
		i = 2
	case n < 1<<16:
		dst[0] = 61 << 2
		binary.LittleEndian.PutUint16(dst[1:], uint16(n))
		i = 3
	case n < 1<<24:
		dst[0], dst[1], dst[2], dst[3] = 62<<2, byte(n), byte(n>>8), byte(n>>16)
		i = 4
	default:
		dst[0] = 63 << 2
		binary.LittleEndian.PutUint32(dst[1:], uint32(n))
		i = 5
	}
	return i + copy(dst[i:], lit)
}

// emitCopy writes copies of length bytes from offset back (offset below
// 64 KiB, length at least 4): copies with a two-byte offset carry 1 to 64
// bytes, those with a one-byte offset (offsets below 2048) 4 to 11.
func emitCopy(dst []byte, offset, length int) int {
	i := 0
	for length >= 68 {
		i += copy2(dst[i:], offset, 64)
		length -= 64
	}
	if length > 64 { // 65 to 67: leave at least 4
		i += copy2(dst[i:], offset, 60)
		length -= 60
	}
	if length >= 12 || offset >= 2048 {
		return i + copy2(dst[i:], offset, length)
	}
	dst[i] = byte(offset>>8)<<5 | byte(length-4)<<2 | 1
	dst[i+1] = byte(offset)
	return i + 2
}

// copy2 writes a copy with a two-byte offset (length 1 to 64).
func copy2(dst []byte, offset, length int) int {
	dst[0] = byte(length-1)<<2 | 2
	binary.LittleEndian.PutUint16(dst[1:], uint16(offset))
	return 3
}
