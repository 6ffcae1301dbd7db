package readme_test

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chatwire/chatwire/examples/internal/demo"
)

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// dedent strips every line's leading tabs and spaces, so a snippet matches its copy inside
// a function body.
func dedent(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimLeft(l, " \t")
	}
	return strings.Join(lines, "\n")
}

var goBlock = regexp.MustCompile("(?s)```go\n(.*?)```")

// TestSnippetsCompile: every Go snippet of the README is in this package, line for line, so
// the compiler has checked it.
func TestSnippetsCompile(t *testing.T) {
	readme := readFile(t, "../../README.md")
	files, err := filepath.Glob("*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	var code strings.Builder
	for _, f := range files {
		code.WriteString(dedent(readFile(t, f)))
	}
	blocks := goBlock.FindAllStringSubmatch(readme, -1)
	if len(blocks) < 5 {
		t.Fatalf("found %d Go snippets in README.md; the pattern is broken", len(blocks))
	}
	for _, b := range blocks {
		if !strings.Contains(code.String(), dedent(b[1])) {
			t.Errorf("README snippet not compiled here (copy it into a function of this package):\n%s", b[1])
		}
	}
}

var flagCall = regexp.MustCompile(`flag\.(?:String|Bool|Int|Duration|Int64|Uint|Float64)(?:Var)?\((?:&[^,]+,\s*)?"([a-z0-9-]+)"`)

// TestExampleTable: the README's table of examples lists every example with every flag it
// defines, and the shared flags paragraph lists every shared flag with its default.
func TestExampleTable(t *testing.T) {
	readme := readFile(t, "../../README.md")
	mains, err := filepath.Glob("../*/main.go")
	if err != nil {
		t.Fatal(err)
	}
	if len(mains) < 5 {
		t.Fatalf("found %d examples", len(mains))
	}
	for _, m := range mains {
		name := filepath.Base(filepath.Dir(m))
		src := readFile(t, m)
		i := strings.Index(readme, "| `examples/"+name+"` |")
		if i < 0 {
			t.Errorf("README's example table has no row for examples/%s", name)
			continue
		}
		row := readme[i : i+strings.Index(readme[i:], "\n")]
		for _, f := range flagCall.FindAllStringSubmatch(src, -1) {
			if !strings.Contains(row, "`-"+f[1]) {
				t.Errorf("README's row for examples/%s does not mention its flag -%s", name, f[1])
			}
		}
		if strings.Contains(src, "demo.RegisterFlags(") && !strings.Contains(row, "shared flags") {
			t.Errorf("README's row for examples/%s does not say it takes the shared flags", name)
		}
	}
	i := strings.Index(readme, "Shared flags (every server example):")
	if i < 0 {
		t.Fatal("README has no shared flags paragraph")
	}
	shared := readme[i : i+strings.Index(readme[i:], "\n\n")]
	set := flag.NewFlagSet("x", flag.ContinueOnError)
	demo.RegisterFlags(set)
	set.VisitAll(func(f *flag.Flag) {
		if !strings.Contains(shared, "`-"+f.Name+"`") {
			t.Errorf("the shared flags paragraph does not mention -%s", f.Name)
		}
	})
	if !strings.Contains(shared, "`"+demo.DefaultAddr+"`") {
		t.Errorf("the shared flags paragraph does not give -addr's default %s", demo.DefaultAddr)
	}
}
