// Package jsonstr scans and decodes JSON strings (RFC 8259) in place, for
// the hand-written, allocation-free scanners of the EMF parser and the
// extension's Telemetry batches.
//
//	end, esc, problem := jsonstr.Scan(b, i) // b[i] is the opening quote
//	if problem == "" && esc { s = jsonstr.Unescape(s[:0], b[i+1:end-1]) }
package jsonstr

import (
	"encoding/binary"
	"math/bits"
	"strconv"
	"unicode/utf8"
)

// strSafe marks the bytes a string may hold without a closer look.
var strSafe = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// hasZero is non-zero when a byte of w is zero.
func hasZero(w uint64) uint64 { return (w - lsb) & ^w & msb }

// hasLess is non-zero when a byte of w is less than n (n <= 128).
func hasLess(w uint64, n uint64) uint64 { return (w - lsb*n) & ^w & msb }

func IsHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// Scan scans the string whose opening quote is s[i] and returns the index
// just past its closing quote, and whether it holds escapes. When the
// string is not valid (unterminated, an invalid escape, a control
// character) it returns where the scan stopped and a short description of
// the problem.
func Scan(s []byte, i int) (end int, esc bool, problem string) {
	i++
	for {
		// Eight bytes at a time while none is '"', '\\' or a control
		// character, then byte by byte.
		for i+8 <= len(s) {
			w := binary.LittleEndian.Uint64(s[i:])
			if m := hasZero(w^(lsb*'"')) | hasZero(w^(lsb*'\\')) | hasLess(w, 0x20); m != 0 {
				// The lowest flagged byte is the first such one (the
				// masks can err only above a true match).
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		for i < len(s) && strSafe[s[i]] {
			i++
		}
		if i >= len(s) {
			return i, false, "unterminated string"
		}
		switch c := s[i]; {
		case c == '"':
			return i + 1, esc, ""
		case c == '\\':
			esc = true
			if i+1 >= len(s) {
				return i, false, "unterminated string"
			}
			switch s[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(s) || !IsHex(s[i+2]) || !IsHex(s[i+3]) || !IsHex(s[i+4]) || !IsHex(s[i+5]) {
					return i, false, `invalid \u escape in string`
				}
				i += 6
			default:
				return i, false, "invalid escape " + strconv.Quote(string(s[i:i+2])) + " in string"
			}
		default: // control character
			return i, false, "control character " + strconv.QuoteRune(rune(c)) + " in string"
		}
	}
}

// Unescape appends the decoded content of a valid JSON string to dst.
// Lone surrogates become U+FFFD, as in encoding/json.
func Unescape(dst, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			dst = append(dst, c)
			i++
			continue
		}
		switch s[i+1] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := rune(hex4(s[i+2:]))
			i += 6
			if r >= 0xd800 && r < 0xdc00 && i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
				if r2 := rune(hex4(s[i+2:])); r2 >= 0xdc00 && r2 < 0xe000 {
					r = (r-0xd800)<<10 | (r2 - 0xdc00) + 0x10000
					i += 6
				}
			}
			if r >= 0xd800 && r < 0xe000 {
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default: // '"', '\\', '/'
			dst = append(dst, s[i+1])
		}
		i += 2
	}
	return dst
}

func hex4(s []byte) int {
	v := 0
	for _, c := range s[:4] {
		v <<= 4
		switch {
		case c >= '0' && c <= '9':
			v |= int(c - '0')
		case c >= 'a' && c <= 'f':
			v |= int(c-'a') + 10
		default:
			v |= int(c-'A') + 10
		}
	}
	return v
}
