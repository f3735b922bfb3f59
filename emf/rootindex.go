package emf

import (
	"hash/maphash"

	"github.com/lambdabridge/lambdabridge/internal/jsonstr"
)

// rootIndexAt is the number of root members from which rootMember looks
// names up in a hash index instead of scanning the members: an event of
// many metrics then costs time linear in its size. (A variable for the
// test that checks the index against the scan.)
var rootIndexAt = 16

// rootIndex maps the hash of a root member's name (unescaped) to the last
// member with a name of that hash. It is built on the first lookup in a
// line with many members.
type rootIndex struct {
	seed  maphash.Seed
	m     map[uint64]int32
	cap   int // the most members it was built for
	built bool
	buf   []byte
}

// indexedRootMember returns the last root member called name and true, or
// -1 and true when there is none, or false when the index cannot say (two
// names of one hash: the caller scans).
func (sc *scanner) indexedRootMember(name []byte) (int32, bool) {
	ix := &sc.rootIdx
	if !ix.built {
		sc.buildRootIndex()
	}
	c, ok := ix.m[maphash.Bytes(ix.seed, name)]
	if !ok {
		return -1, true
	}
	if string(sc.key(c, &ix.buf)) == string(name) {
		return c, true
	}
	return -1, false
}

func (sc *scanner) buildRootIndex() {
	ix := &sc.rootIdx
	n := len(sc.rootKids)
	if ix.m == nil || n*8 < ix.cap {
		if ix.m == nil {
			ix.seed = maphash.MakeSeed()
		}
		ix.m, ix.cap = make(map[uint64]int32, n), n
	} else {
		clear(ix.m)
		ix.cap = max(ix.cap, n)
	}
	for _, c := range sc.rootKids {
		ix.m[maphash.Bytes(ix.seed, sc.key(c, &ix.buf))] = c
	}
	ix.built = true
}

// key returns the member name of node c, unescaped into buf when needed.
func (sc *scanner) key(c int32, buf *[]byte) []byte {
	nd := &sc.nodes[c]
	k := sc.s[nd.keyStart:nd.keyEnd]
	if nd.keyEsc {
		*buf = jsonstr.Unescape((*buf)[:0], k)
		return *buf
	}
	return k
}
