package emf

import (
	"math"

	"github.com/lambdabridge/lambdabridge/internal/jsonnum"
)

// numberArray reads the root array v, left shallow by the scanner (valid
// JSON), straight from its bytes when it is the common case: 1 to
// maxValuesPerMetric numbers that need no diagnostic (finite, within
// CloudWatch's range, at most 2^53-1 in magnitude). It returns the values
// (in p.values) and true; false sends the array to the general path, which
// builds its nodes and says what is wrong.
func (p *Parser) numberArray(v int32) ([]float64, bool) {
	sc := &p.sc
	nd := &sc.nodes[v]
	s := sc.s[:nd.end-1] // without the closing ']'
	vals := p.values[:0]
	for i := skipSpace(s, int(nd.start)+1); i < len(s); {
		if c := s[i]; c != '-' && (c < '0' || c > '9') || len(vals) == maxValuesPerMetric {
			return nil, false
		}
		end, problem := jsonnum.Scan(s, i)
		if problem != "" {
			return nil, false
		}
		f := parseNumber(s[i:end])
		if a := math.Abs(f); a > maxSafeInteger || a != 0 && a < minCloudWatchValue || math.IsNaN(f) {
			return nil, false
		}
		vals = append(vals, f)
		i = skipSpace(s, end)
		if i < len(s) && s[i] == ',' {
			i = skipSpace(s, i+1)
		}
	}
	p.values = vals
	return vals, len(vals) > 0
}

func skipSpace(s []byte, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}
