package main

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// readmeShellBlocks returns the commands of the README's ```sh blocks, one
// string per block, continuation lines kept: when a block shows a session
// ($ prompts), only the prompted lines.
func readmeShellBlocks(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var blocks []string
	for _, part := range strings.Split(string(b), "```sh\n")[1:] {
		body, _, _ := strings.Cut(part, "```")
		if strings.Contains(body, "\n$ ") || strings.HasPrefix(body, "$ ") {
			var cmds []string
			for _, l := range strings.Split(body, "\n") {
				if c, ok := strings.CutPrefix(l, "$ "); ok {
					cmds = append(cmds, c)
				}
			}
			body = strings.Join(cmds, "\n") + "\n"
		}
		blocks = append(blocks, body)
	}
	if len(blocks) == 0 {
		t.Fatal("README.md has no sh block")
	}
	return blocks
}

// TestREADMEShellBlocks checks that every shell example of the README can
// be pasted into a shell: no comment after a trailing backslash, valid
// shell syntax, and every lambdabridge command line parses (its command and
// flags exist).
func TestREADMEShellBlocks(t *testing.T) {
	commentAfterBackslash := regexp.MustCompile(`\\\s+#`)
	for _, block := range readmeShellBlocks(t) {
		if m := commentAfterBackslash.FindString(block); m != "" {
			t.Errorf("a comment after a trailing backslash breaks the command when pasted:\n%s", block)
		}
		if _, err := exec.LookPath("bash"); err == nil {
			cmd := exec.Command("bash", "-n")
			cmd.Stdin = strings.NewReader(block)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("bash -n: %v: %s\n%s", err, out, block)
			}
		}
		for _, line := range strings.Split(strings.ReplaceAll(block, "\\\n", " "), "\n") {
			for _, seg := range strings.Split(line, "|") {
				args := shellWords(seg)
				if len(args) == 0 || args[0] != "lambdabridge" {
					continue
				}
				c := newCLI(&Main{})
				if _, err := c.app.ParseContext(c.normalize(args[1:])); err != nil {
					t.Errorf("README command does not parse: %v: %s", c.explain(args[1:], err), seg)
				}
			}
		}
	}
}

// shellWords splits a simple command line (no expansions) into words,
// dropping quotes and stopping at a comment or a redirection.
func shellWords(s string) []string {
	var words []string
	for _, w := range strings.Fields(s) {
		if strings.HasPrefix(w, "#") || strings.HasPrefix(w, ">") || strings.HasPrefix(w, "2>") {
			break
		}
		words = append(words, strings.Trim(w, `'"`))
	}
	return words
}
