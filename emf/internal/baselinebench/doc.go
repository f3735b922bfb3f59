// Package baselinebench benchmarks lambdabridge's EMF parser (parse and
// validate) beside encoding/json and github.com/valyala/fastjson on the
// lines the real producer libraries write (testdata/producers/emf), in the
// same run. It is a module of its own so that fastjson stays out of
// lambdabridge's go.mod:
//
//	cd emf/internal/baselinebench
//	go test -run '^$' -bench . -benchmem
//	go test -run '^$' -bench . -benchmem -count 5 | tee bench.txt
package baselinebench
