// Command emptygo is the floor of BenchmarkProgramStart: a Go program that
// does nothing, built as the extension is.
package main

func main() {}
