package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/countersign/countersign"

// statusOwner is the one package that may change cases.status and actions.status.
const statusOwner = "internal/approval"

// wiring is the composition root: the one internal package that may import
// handlers (it fills handlers.App), and still never web.
const wiring = "internal/wire"

// builtByCmd are the packages web receives assembled (through internal/wire) and
// must not import: it would be building connectors, jobs or the sandbox itself.
var builtByCmd = []string{"internal/jobs", "internal/connector", "internal/sandbox", "internal/enrich"}

func under(path string, pkgs []string) bool {
	for _, p := range pkgs {
		if path == module+"/"+p || strings.HasPrefix(path, module+"/"+p+"/") {
			return true
		}
	}
	return false
}

// updateSet finds "UPDATE cases|actions SET <list>" and captures the SET list up to
// WHERE, FROM, RETURNING or the end of the statement.
var updateSet = regexp.MustCompile(`(?is)\bUPDATE\s+(cases|actions)\b(?:\s+(?:AS\s+)?\w+)?\s+SET\s+(.*?)(?:\bWHERE\b|\bFROM\b|\bRETURNING\b|;|$)`)

var setsStatus = regexp.MustCompile(`(?i)(^|[\s,(])status\s*=`)

// violation is one line that breaks a rule.
type violation struct{ pos, what string }

// check walks the non-test Go files under root (a module laid out like this one)
// and returns every status write outside the owner and every import across layers.
func check(t *testing.T, root string) []violation {
	t.Helper()
	var out []violation
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		pkg := filepath.ToSlash(filepath.Dir(rel))
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		out = append(out, statusWrites(fset, f, pkg)...)
		out = append(out, layering(fset, f, pkg)...)
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	return out
}

// statusWrites reports string literals outside the owner that update a status
// column of cases or actions, and gorm Update("status", ...) calls.
func statusWrites(fset *token.FileSet, f *ast.File, pkg string) []violation {
	if pkg == statusOwner {
		return nil
	}
	var out []violation
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.BasicLit:
			if n.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(n.Value)
			if err != nil {
				return true
			}
			for _, m := range updateSet.FindAllStringSubmatch(s, -1) {
				if setsStatus.MatchString(m[2]) {
					out = append(out, violation{fset.Position(n.Pos()).String(), "UPDATE " + m[1] + " SET status outside " + statusOwner})
				}
			}
		case *ast.CallExpr:
			sel, ok := n.Fun.(*ast.SelectorExpr)
			if !ok || (sel.Sel.Name != "Update" && sel.Sel.Name != "UpdateColumn") || len(n.Args) == 0 {
				return true
			}
			if lit, ok := n.Args[0].(*ast.BasicLit); ok && lit.Value == `"status"` {
				out = append(out, violation{fset.Position(n.Pos()).String(), "gorm " + sel.Sel.Name + `("status") outside ` + statusOwner})
			}
		}
		return true
	})
	return out
}

// layering reports imports that cross STYLE.md's layers.
func layering(fset *token.FileSet, f *ast.File, pkg string) []violation {
	var out []violation
	top := strings.SplitN(pkg, "/", 2)[0]
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		ours := strings.HasPrefix(path, module+"/")
		dest := strings.SplitN(strings.TrimPrefix(path, module+"/"), "/", 2)[0]
		bad := ""
		switch {
		case top == "views" && (path == module+"/models" || strings.HasPrefix(path, "gorm.io/") || ours && dest == "internal"):
			bad = "views imports " + path + " (views take view models only)"
		case top == "models" && ours:
			bad = "models imports " + path + " (models is a leaf)"
		case pkg == wiring && ours && dest == "handlers":
			// the composition root fills handlers.App
		case top == "internal" && ours && (dest == "web" || dest == "handlers" || dest == "views" || dest == "cmd"):
			bad = pkg + " imports " + path + " (internal/* sits below web, handlers and views)"
		case top == "handlers" && ours && (dest == "web" || dest == "cmd"):
			bad = "handlers imports " + path + " (web calls handlers, not the other way)"
		case top == "web" && ours && dest == "cmd":
			bad = "web imports " + path
		case pkg == "web" && under(path, builtByCmd):
			bad = "web imports " + path + " (cmd assembles it with internal/wire; web receives it)"
		}
		if bad != "" {
			out = append(out, violation{fset.Position(imp.Pos()).String(), bad})
		}
	}
	return out
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

// TestArchitecture fails on any status write outside the owner and any import
// across the layering, naming the file and line.
func TestArchitecture(t *testing.T) {
	for _, v := range check(t, repoRoot(t)) {
		t.Errorf("%s: %s", v.pos, v.what)
	}
}

// TestCheckCatches runs the same check on testdata/bad, a module-shaped tree that
// breaks every rule once, so the check above cannot pass by finding nothing.
func TestCheckCatches(t *testing.T) {
	got := map[string]bool{}
	for _, v := range check(t, filepath.Join("testdata", "bad")) {
		got[filepath.ToSlash(v.pos[:strings.LastIndex(v.pos[:strings.LastIndex(v.pos, ":")], ":")])+" "+v.what] = true
	}
	want := []string{
		"testdata/bad/internal/foo/foo.go UPDATE cases SET status outside internal/approval",
		"testdata/bad/internal/foo/foo.go UPDATE actions SET status outside internal/approval",
		`testdata/bad/internal/foo/foo.go gorm Update("status") outside internal/approval`,
		"testdata/bad/internal/foo/foo.go internal/foo imports github.com/countersign/countersign/handlers (internal/* sits below web, handlers and views)",
		"testdata/bad/views/page.go views imports github.com/countersign/countersign/models (views take view models only)",
		"testdata/bad/views/page.go views imports gorm.io/gorm (views take view models only)",
		"testdata/bad/web/server.go web imports github.com/countersign/countersign/internal/jobs (cmd assembles it with internal/wire; web receives it)",
		"testdata/bad/web/server.go web imports github.com/countersign/countersign/internal/connector/stripe (cmd assembles it with internal/wire; web receives it)",
		"testdata/bad/internal/wire/wire.go internal/wire imports github.com/countersign/countersign/web (internal/* sits below web, handlers and views)",
	}
	for _, w := range want {
		if !got[w] {
			t.Errorf("check missed: %s\ngot: %v", w, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("check found %d violations in testdata/bad, want %d: %v", len(got), len(want), got)
	}
}
