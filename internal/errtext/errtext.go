// Package errtext turns a delivery error into the few words a user needs in
// a summary: the innermost cause ("connection refused", "i/o timeout")
// rather than the whole chain of operations and URLs around it.
//
//	err := post(ctx, url, body) // Post "http://127.0.0.1:9/api/v1/write": dial tcp 127.0.0.1:9: connect: connection refused
//	errtext.Cause(err)          // "connection refused"
package errtext

import "errors"

// Cause returns the text of the innermost error of err's chain (following
// single Unwrap; a joined error is kept whole), or "" for nil.
func Cause(err error) string {
	if err == nil {
		return ""
	}
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}
