package sioecho_test

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeExample checks that the README's first Go example is readme_example_test.go, so
// that it compiles: the same file with package main and func main.
func TestReadmeExample(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(readme), "```go\n")
	if !ok {
		t.Fatal("the README has no Go block")
	}
	block, _, _ = strings.Cut(block, "```")
	example, err := os.ReadFile("readme_example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(string(example), "package sioecho_test\n", "package main\n", 1)
	want = strings.Replace(want, "func Example_readme() {", "func main() {", 1)
	if block != want {
		t.Fatalf("the README's first Go block is not readme_example_test.go as package main; it reads\n%s\nwant\n%s", block, want)
	}
}
