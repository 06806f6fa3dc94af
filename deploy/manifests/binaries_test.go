package manifests_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// modulePrefix is the import path prefix of every flexflow module; each
// module's path mirrors its directory, so an import path names a directory.
const modulePrefix = "github.com/flexflow/flexflow/"

// envVar is one environment variable a binary reads.
type envVar struct {
	Name string
	// Secret variables may be given as Name_FILE instead and must never be
	// written inline in a manifest.
	Secret bool
	// Required variables stop the binary at start when missing.
	Required bool
	Default  string
}

// binary is what the Go sources say about one main package.
type binary struct {
	// Name is the main package's directory name, which is also the name
	// `go build -o dir/` gives the executable.
	Name string
	// Dir is the package directory relative to the repository root.
	Dir string
	// Vars are the variables it reads: its Config's env tags and the
	// literal names passed to Getenv-like calls, in main and the flexflow
	// packages main imports.
	Vars map[string]envVar
	// Telemetry says whether it sets up OpenTelemetry (libs/telemetry),
	// which reads the standard OTEL_* variables.
	Telemetry bool
	// ListenVar is the variable holding the listen address (Config field
	// Addr); ListenFlag the flag doing so when there is no such variable.
	ListenVar  string
	ListenFlag string
	// Port is the default listen port; 0 when the binary serves nothing.
	Port int
}

// accepts reports whether the binary reads the variable name.
func (b *binary) accepts(name string) bool {
	if _, ok := b.Vars[name]; ok {
		return true
	}
	if base, ok := strings.CutSuffix(name, "_FILE"); ok {
		if v, ok := b.Vars[base]; ok && v.Secret {
			return true
		}
	}
	return b.Telemetry && strings.HasPrefix(name, "OTEL_")
}

// repo is the repository as the tests see it.
type repo struct {
	Root string
	// Binaries by name.
	Binaries map[string]*binary
}

// binaryByDir returns the binary whose main package is dir (repository
// relative, slash separated, without a leading "./").
func (r *repo) binaryByDir(dir string) *binary {
	for _, b := range r.Binaries {
		if b.Dir == dir {
			return b
		}
	}
	return nil
}

// binaryByListenVar returns the binary that listens on the address in name.
func (r *repo) binaryByListenVar(name string) *binary {
	for _, b := range r.Binaries {
		if b.ListenVar == name {
			return b
		}
	}
	return nil
}

// path joins repository-relative parts into an absolute path.
func (r *repo) path(parts ...string) string {
	return filepath.Join(append([]string{r.Root}, parts...)...)
}

// loadRepo finds every main package of the Go workspace and reads what each
// accepts.
func loadRepo(t *testing.T) *repo {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.work")); err != nil {
		t.Fatalf("repository root not found above deploy/manifests: %v", err)
	}
	r := &repo{Root: root, Binaries: map[string]*binary{}}
	for _, top := range []string{"services", "gateway", "libs", "deploy"} {
		err := filepath.WalkDir(filepath.Join(root, top), func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() {
				return nil
			}
			if name := d.Name(); name == "testdata" || strings.HasPrefix(name, ".") {
				return filepath.SkipDir
			}
			files, err := parsePackage(path)
			if err != nil {
				return err
			}
			if len(files) == 0 || files[0].Name.Name != "main" {
				return nil
			}
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return err
			}
			b, err := readBinary(root, filepath.ToSlash(rel), files)
			if err != nil {
				return err
			}
			if other, dup := r.Binaries[b.Name]; dup {
				t.Errorf("two main packages build %q: %s and %s", b.Name, other.Dir, b.Dir)
			}
			r.Binaries[b.Name] = b
			return nil
		})
		if err != nil {
			t.Fatalf("reading the Go sources under %s: %v", top, err)
		}
	}
	if len(r.Binaries) == 0 {
		t.Fatal("no main packages found")
	}
	return r
}

// parsePackage parses the non-test Go files of dir.
func parsePackage(dir string) ([]*ast.File, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	return files, nil
}

// readBinary reads a main package and the flexflow packages it imports.
func readBinary(root, dir string, mainFiles []*ast.File) (*binary, error) {
	b := &binary{Name: pathBase(dir), Dir: dir, Vars: map[string]envVar{}}
	pkgs := [][]*ast.File{mainFiles}
	seen := map[string]bool{}
	for _, f := range mainFiles {
		for _, imp := range f.Imports {
			p, err := strconv.Unquote(imp.Path.Value)
			if err != nil || !strings.HasPrefix(p, modulePrefix) || seen[p] {
				continue
			}
			seen[p] = true
			if p == modulePrefix+"libs/telemetry" {
				b.Telemetry = true
			}
			files, err := parsePackage(filepath.Join(root, filepath.FromSlash(strings.TrimPrefix(p, modulePrefix))))
			if err != nil {
				return nil, err
			}
			for _, f := range files {
				for _, imp := range f.Imports {
					if imp.Path.Value == strconv.Quote(modulePrefix+"libs/telemetry") {
						b.Telemetry = true
					}
				}
			}
			pkgs = append(pkgs, files)
		}
	}
	for _, files := range pkgs {
		readPackage(b, files)
	}
	return b, nil
}

// readPackage adds what one package says about the binary: a Config
// struct's env tags, literal Getenv names and a "listen" flag's default.
func readPackage(b *binary, files []*ast.File) {
	structs := map[string]*ast.StructType{}
	consts := map[string]string{}
	for _, f := range files {
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok {
				continue
			}
			for _, spec := range gd.Specs {
				switch s := spec.(type) {
				case *ast.TypeSpec:
					if st, ok := s.Type.(*ast.StructType); ok {
						structs[s.Name.Name] = st
					}
				case *ast.ValueSpec:
					if gd.Tok != token.CONST {
						continue
					}
					for i, name := range s.Names {
						if i < len(s.Values) {
							if v, ok := stringLit(s.Values[i]); ok {
								consts[name.Name] = v
							}
						}
					}
				}
			}
		}
	}
	if cfg, ok := structs["Config"]; ok {
		readConfig(b, cfg, structs, "", 0)
	}
	str := func(e ast.Expr) (string, bool) {
		if v, ok := stringLit(e); ok {
			return v, true
		}
		if id, ok := e.(*ast.Ident); ok {
			v, ok := consts[id.Name]
			return v, ok
		}
		return "", false
	}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			var fn string
			switch fun := call.Fun.(type) {
			case *ast.SelectorExpr:
				fn = fun.Sel.Name
			case *ast.Ident:
				fn = fun.Name
			}
			switch fn {
			case "Getenv", "LookupEnv", "getenv":
				if name, ok := str(call.Args[0]); ok && isEnvName(name) {
					if _, known := b.Vars[name]; !known {
						b.Vars[name] = envVar{Name: name}
					}
				}
			case "String":
				if len(call.Args) >= 2 {
					if flagName, ok := str(call.Args[0]); ok && flagName == "listen" {
						if def, ok := str(call.Args[1]); ok && b.ListenVar == "" {
							b.ListenFlag = flagName
							b.Port = portOf(def)
						}
					}
				}
			}
			return true
		})
	}
}

// readConfig walks a Config struct as caarlos0/env (and libs/config) do:
// fields with an env tag are variables; untagged struct fields of this
// package are walked with their envPrefix.
func readConfig(b *binary, st *ast.StructType, structs map[string]*ast.StructType, prefix string, depth int) {
	if depth > 5 {
		return
	}
	for _, field := range st.Fields.List {
		var tag reflect.StructTag
		if field.Tag != nil {
			raw, err := strconv.Unquote(field.Tag.Value)
			if err != nil {
				continue
			}
			tag = reflect.StructTag(raw)
		}
		envTag, hasEnv := tag.Lookup("env")
		name, opts, _ := strings.Cut(envTag, ",")
		if name == "-" {
			continue
		}
		if !hasEnv || name == "" {
			if id, ok := field.Type.(*ast.Ident); ok {
				if nested, ok := structs[id.Name]; ok {
					readConfig(b, nested, structs, prefix+tag.Get("envPrefix"), depth+1)
				}
			}
			continue
		}
		v := envVar{Name: prefix + name, Secret: tag.Get("secret") == "true", Default: tag.Get("envDefault")}
		for _, o := range strings.Split(opts, ",") {
			if o == "required" || o == "notEmpty" {
				v.Required = true
			}
		}
		b.Vars[v.Name] = v
		for _, n := range field.Names {
			if n.Name == "Addr" {
				b.ListenVar = v.Name
				b.ListenFlag = ""
				b.Port = portOf(v.Default)
			}
		}
	}
}

func stringLit(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

// isEnvName tells variable names from other strings passed to Getenv-like
// helpers.
func isEnvName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') && r != '_' {
			return false
		}
	}
	return true
}

// portOf returns the port of a host:port address, 0 when there is none.
func portOf(addr string) int {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return 0
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		return 0
	}
	return n
}

func pathBase(p string) string {
	if i := strings.LastIndex(p, "/"); i >= 0 {
		return p[i+1:]
	}
	return p
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// TestBinariesAreWhatTheManifestsExpect pins the facts the other tests lean
// on, so a change in a service's sources that breaks a deployment shows up
// as a clear message here first.
func TestBinariesAreWhatTheManifestsExpect(t *testing.T) {
	r := loadRepo(t)
	tests := []struct {
		name      string
		binary    string
		listenVar string
		port      int
	}{
		{"employee-directory listens on EMPLOYEE_DIRECTORY_ADDR, port 9091", "employee-directory", "EMPLOYEE_DIRECTORY_ADDR", 9091},
		{"contract-sync listens on CONTRACT_SYNC_ADDR, port 9092", "contract-sync", "CONTRACT_SYNC_ADDR", 9092},
		{"document-archive listens on DOCUMENT_ARCHIVE_ADDR, port 9093", "document-archive", "DOCUMENT_ARCHIVE_ADDR", 9093},
		{"gateway listens on GATEWAY_ADDR, port 8080", "gateway", "GATEWAY_ADDR", 8080},
		{"the Flex HRM sandbox listens where -listen says, port 8091", "flexhrm-sandbox", "", 8091},
		{"the Oneflow sandbox listens where -listen says, port 8092", "oneflow-sandbox", "", 8092},
		{"flexflowctl serves nothing", "flexflowctl", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, ok := r.Binaries[tt.binary]
			if !ok {
				t.Fatalf("no main package named %s (have %v)", tt.binary, sortedKeys(r.Binaries))
			}
			if b.ListenVar != tt.listenVar || b.Port != tt.port {
				t.Errorf("%s listens on %q, port %d; want %q, port %d", b.Dir, b.ListenVar, b.Port, tt.listenVar, tt.port)
			}
			if tt.listenVar != "" && len(b.Vars) < 2 {
				t.Errorf("%s: found only %v in its Config; the env tags were not read", b.Dir, sortedKeys(b.Vars))
			}
		})
	}
}
