package main

import (
	"os"
	"os/exec"
	"path/filepath"
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

// TestREADMESessions runs the README's validate and convert sessions ($
// prompts on the shipped files) and checks that what the README shows is
// what they print (the README drops the files' directory and cuts long
// lines with "...").
func TestREADMESessions(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	ran := 0
	for _, part := range strings.Split(string(b), "```sh\n")[1:] {
		body, _, _ := strings.Cut(part, "```")
		lines := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
		for i := 0; i < len(lines); i++ {
			cmdline, ok := strings.CutPrefix(lines[i], "$ ")
			args := shellWords(cmdline)
			if !ok || len(args) < 2 || args[0] != "lambdabridge" || args[1] != "validate" && args[1] != "convert" {
				continue
			}
			var shown []string
			for i+1 < len(lines) && !strings.HasPrefix(lines[i+1], "$ ") {
				i++
				shown = append(shown, lines[i])
			}
			var dirs []string
			for j, a := range args {
				if _, err := os.Stat(filepath.Join("../..", a)); err == nil && j > 1 {
					args[j] = filepath.Join("../..", a)
					dirs = append(dirs, filepath.Dir(args[j])+"/")
				}
			}
			stdout, stderr, _ := runCmd(t, "", args[1:]...)
			out := stdout + stderr
			for _, d := range dirs {
				out = strings.ReplaceAll(out, d, "")
			}
			for _, want := range shown {
				prefix, _, _ := strings.Cut(want, "...")
				if prefix != "" && !regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(prefix)).MatchString(out) {
					t.Errorf("README shows %q after $ %s; lambdabridge prints:\n%s", want, cmdline, out)
				}
			}
			ran++
		}
	}
	if ran == 0 {
		t.Error("README.md has no validate or convert session to check")
	}
}
