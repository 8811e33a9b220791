package explore

import (
	"go/ast"
	"go/build"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"strings"
	"testing"
)

// The explorer is a search over states the model encodes: none of its
// code reads or writes a field of an actor's state or of a message (that
// is the model's, package model and model/statespace). Type-checked, so a
// field reached through any expression counts.
func TestSearchNamesNoActorField(t *testing.T) {
	if testing.Short() {
		t.Skip("type-checks the package and its imports from source")
	}
	actorTypes := map[string]bool{}
	for _, n := range strings.Fields(`World Camera Gateway Worker PoolConn Cache CacheEntry Registry Store Web
		WebEntry Notifier Replica Reader Msg Queued Upload PendingReq CacheReq CacheReply CacheValue EventRef Owners`) {
		actorTypes[n] = true
	}
	fset := token.NewFileSet()
	pkg, err := build.Default.ImportDir(".", 0) // the files this platform builds
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, n := range pkg.GoFiles {
		f, err := parser.ParseFile(fset, n, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	info := &types.Info{Selections: map[*ast.SelectorExpr]*types.Selection{}}
	conf := types.Config{Importer: importer.ForCompiler(fset, "source", nil)}
	if _, err := conf.Check("github.com/stormproof/stormproof/checker/explore", fset, files, info); err != nil {
		t.Fatal(err)
	}
	for sel, s := range info.Selections {
		if s.Kind() != types.FieldVal {
			continue
		}
		recv := s.Recv()
		if p, ok := recv.(*types.Pointer); ok {
			recv = p.Elem()
		}
		named, ok := recv.(*types.Named)
		if !ok || named.Obj().Pkg() == nil || named.Obj().Pkg().Path() != "github.com/stormproof/stormproof/model" {
			continue
		}
		if actorTypes[named.Obj().Name()] {
			t.Errorf("%s: reads model.%s.%s", fset.Position(sel.Pos()), named.Obj().Name(), sel.Sel.Name)
		}
	}
}
