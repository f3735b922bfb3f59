// Package jsonnum scans a JSON number (RFC 8259) in place, for the
// hand-written, allocation-free scanners of the EMF and Datadog JSON
// parsers.
//
//	end, problem := jsonnum.Scan(line, i)
//	if problem != "" { /* line[i:end] is not a number */ }
package jsonnum

// Scan scans the number that starts at s[i] with the grammar
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? and returns the index just
// past it. When s[i:] does not start a valid number it returns where the
// scan stopped and a short description of the problem.
func Scan(s []byte, i int) (end int, problem string) {
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		i = digits(s, i)
	default:
		return i, "invalid number"
	}
	if i < len(s) && s[i] == '.' {
		d := i + 1
		if i = digits(s, d); i == d {
			return i, "invalid number: no digit after '.'"
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		d := i
		if i = digits(s, d); i == d {
			return i, "invalid number: no digit in exponent"
		}
	}
	return i, ""
}

func digits(s []byte, i int) int {
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}
