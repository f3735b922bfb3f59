package jsonscan

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestValue: Value moves past exactly one valid value, the same values
// encoding/json takes, and refuses what it refuses.
func TestValue(t *testing.T) {
	deep := strings.Repeat("[", MaxDepth+2) + strings.Repeat("]", MaxDepth+2)
	for _, tc := range []struct {
		in   string
		ok   bool
		rest string // what follows the value
	}{
		{`"a\"b" x`, true, ` x`},
		{`{"a":[1,-2.5e3,true,false,null,{}],"b":"\u00e9"},`, true, `,`},
		{`[]]`, true, `]`},
		{`0`, true, ``},
		{`01`, true, `1`}, // 0, then what follows: the caller checks it
		{`tru`, false, ``},
		{`{"a" 1}`, false, ``},
		{`{"a":1,}`, false, ``},
		{`[1 2]`, false, ``},
		{`"unterminated`, false, ``},
		{"\"control\nbyte\"", false, ``},
		{deep, false, ``},
	} {
		d := Scanner{B: []byte(tc.in)}
		v, ok := d.Value()
		if ok != tc.ok {
			t.Errorf("Value(%.40q) ok %v, want %v", tc.in, ok, tc.ok)
			continue
		}
		if !ok {
			continue
		}
		if rest := tc.in[d.I:]; rest != tc.rest {
			t.Errorf("Value(%.40q) left %q, want %q", tc.in, rest, tc.rest)
		}
		if !json.Valid(v) {
			t.Errorf("Value(%.40q) = %q, which encoding/json refuses", tc.in, v)
		}
	}
}

// TestObject: members in order, keys still escaped; an object only.
func TestObject(t *testing.T) {
	var keys, vals []string
	d := Scanner{B: []byte(` { "a" : 1 , "b\u0043" : {"x":[2]} , "a":"last" } `)}
	ok := d.Object(func(k, v []byte) bool {
		keys, vals = append(keys, string(k)), append(vals, string(v))
		return true
	})
	if !ok || !d.End() {
		t.Fatalf("Object: ok %v, end %v", ok, d.End())
	}
	if got, want := strings.Join(keys, "|"), `a|b\u0043|a`; got != want {
		t.Errorf("keys %s, want %s", got, want)
	}
	if got, want := strings.Join(vals, "|"), `1|{"x":[2]}|"last"`; got != want {
		t.Errorf("values %s, want %s", got, want)
	}
	for _, in := range []string{`[]`, `{"a":1`, `{"a":1 "b":2}`, `{1:2}`} {
		d := Scanner{B: []byte(in)}
		if d.Object(func(_, _ []byte) bool { return true }) {
			t.Errorf("Object(%s) took it", in)
		}
	}
	d = Scanner{B: []byte(`{"a":1,"b":2}`)}
	n := 0
	if d.Object(func(_, _ []byte) bool { n++; return false }) || n != 1 {
		t.Errorf("Object went on after member said stop (%d calls)", n)
	}
}

// TestUnquote: escapes decoded as encoding/json decodes them; invalid
// UTF-8 and what is not a string refused.
func TestUnquote(t *testing.T) {
	for _, in := range []string{`"plain"`, `"tab\there \"q\" \\ \/ \u00e9 \ud83d\ude00"`, `"lone \ud800 surrogate"`, `""`} {
		got, ok := Unquote([]byte(in))
		var want string
		if err := json.Unmarshal([]byte(in), &want); err != nil || !ok || got != want {
			t.Errorf("Unquote(%s) = %q, %v; encoding/json %q, %v", in, got, ok, want, err)
		}
	}
	for _, in := range []string{"\"\xff\"", `1`, `"`, ``} {
		if _, ok := Unquote([]byte(in)); ok {
			t.Errorf("Unquote(%q) took it", in)
		}
	}
	if b, ok := AppendUnquoted([]byte("x:"), []byte(`"a\nb"`)); !ok || string(b) != "x:a\nb" {
		t.Errorf("AppendUnquoted = %q, %v", b, ok)
	}
}
