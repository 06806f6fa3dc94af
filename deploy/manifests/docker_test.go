package manifests_test

import (
	"encoding/json"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// instruction is one Dockerfile instruction with its continuation lines
// joined.
type instruction struct {
	Cmd  string // upper case: FROM, RUN, ...
	Args string
}

// stage is one FROM ... section.
type stage struct {
	Image  string
	Name   string
	Instrs []instruction
}

// dockerfile is a parsed deploy/docker/<binary>.Dockerfile.
type dockerfile struct {
	Path   string
	Binary string // from the file name
	Stages []stage
}

func (d *dockerfile) final() *stage { return &d.Stages[len(d.Stages)-1] }

// all returns the stage's instructions named cmd.
func (s *stage) all(cmd string) []instruction {
	var out []instruction
	for _, in := range s.Instrs {
		if in.Cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// env returns the variables the stage's ENV instructions set.
func (s *stage) env() map[string]string {
	out := map[string]string{}
	for _, in := range s.all("ENV") {
		fields := strings.Fields(in.Args)
		if len(fields) == 2 && !strings.Contains(fields[0], "=") {
			out[fields[0]] = fields[1] // legacy ENV KEY VALUE
			continue
		}
		for _, f := range fields {
			k, v, _ := strings.Cut(f, "=")
			out[k] = strings.Trim(v, `"`)
		}
	}
	return out
}

func parseDockerfile(t *testing.T, p string) *dockerfile {
	t.Helper()
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	d := &dockerfile{Path: p, Binary: strings.TrimSuffix(filepath.Base(p), ".Dockerfile")}
	var cur strings.Builder
	flush := func() {
		line := strings.TrimSpace(cur.String())
		cur.Reset()
		if line == "" {
			return
		}
		cmd, args, _ := strings.Cut(line, " ")
		in := instruction{Cmd: strings.ToUpper(cmd), Args: strings.TrimSpace(args)}
		if in.Cmd == "FROM" {
			var st stage
			fields := strings.Fields(in.Args)
			for i := 0; i < len(fields); i++ {
				switch {
				case strings.HasPrefix(fields[i], "--"):
				case strings.EqualFold(fields[i], "AS") && i+1 < len(fields):
					st.Name = fields[i+1]
					i++
				default:
					st.Image = fields[i]
				}
			}
			d.Stages = append(d.Stages, st)
			return
		}
		if len(d.Stages) == 0 {
			if in.Cmd != "ARG" {
				t.Errorf("%s: %s before the first FROM", p, in.Cmd)
			}
			return
		}
		st := &d.Stages[len(d.Stages)-1]
		st.Instrs = append(st.Instrs, in)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") {
			continue // comments, also between continuation lines
		}
		if body, ok := strings.CutSuffix(trimmed, `\`); ok {
			cur.WriteString(body + " ")
			continue
		}
		cur.WriteString(trimmed)
		flush()
	}
	flush()
	if len(d.Stages) == 0 {
		t.Fatalf("%s: no FROM", p)
	}
	return d
}

// execForm parses a JSON-array ENTRYPOINT or CMD.
func execForm(t *testing.T, in instruction) []string {
	t.Helper()
	var out []string
	if err := json.Unmarshal([]byte(in.Args), &out); err != nil {
		t.Errorf("%s %s is not in exec (JSON array) form: %v", in.Cmd, in.Args, err)
	}
	return out
}

// goBuild finds the builder's `go build` and returns that RUN's words.
func goBuild(d *dockerfile) ([]string, *stage) {
	for i := range d.Stages[:len(d.Stages)-1] {
		st := &d.Stages[i]
		for _, in := range st.all("RUN") {
			if strings.Contains(in.Args, "go build") {
				return strings.Fields(in.Args), st
			}
		}
	}
	return nil, nil
}

// builtPackages returns the package directories a `go build` names.
func builtPackages(words []string) []string {
	var out []string
	for _, w := range words {
		if strings.HasPrefix(w, "./") {
			out = append(out, path.Clean(w))
		}
	}
	return out
}

func loadDockerfiles(t *testing.T, r *repo) []*dockerfile {
	t.Helper()
	paths, err := filepath.Glob(r.path("deploy", "docker", "*.Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no deploy/docker/*.Dockerfile")
	}
	var out []*dockerfile
	for _, p := range paths {
		out = append(out, parseDockerfile(t, p))
	}
	return out
}

// dockerfileCheck is one rule every Dockerfile must follow.
type dockerfileCheck struct {
	name  string
	check func(t *testing.T, r *repo, d *dockerfile)
}

func dockerfileChecks() []dockerfileCheck {
	return []dockerfileCheck{
		{"is named after a main package of the repository", func(t *testing.T, r *repo, d *dockerfile) {
			if _, ok := r.Binaries[d.Binary]; !ok {
				t.Errorf("no main package named %s (have %v)", d.Binary, sortedKeys(r.Binaries))
			}
		}},
		{"builds main packages that exist, that binary among them", func(t *testing.T, r *repo, d *dockerfile) {
			words, _ := goBuild(d)
			if words == nil {
				t.Fatal("no `go build` in a build stage")
			}
			pkgs := builtPackages(words)
			if len(pkgs) == 0 {
				t.Fatal("`go build` names no ./package")
			}
			var names []string
			for _, p := range pkgs {
				b := r.binaryByDir(p)
				if b == nil {
					t.Errorf("`go build` names %s, which is not a main package of the repository", p)
					continue
				}
				names = append(names, b.Name)
			}
			if !slices.Contains(names, d.Binary) {
				t.Errorf("builds %v, not %s", pkgs, d.Binary)
			}
			if !slices.Contains(words, "-o") {
				t.Error("`go build` without -o: the output path is not what the final stage copies")
			}
		}},
		{"builds a static, reproducible binary (CGO_ENABLED=0, -trimpath)", func(t *testing.T, _ *repo, d *dockerfile) {
			words, st := goBuild(d)
			if words == nil {
				t.Fatal("no `go build` in a build stage")
			}
			if !slices.Contains(words, "CGO_ENABLED=0") && st.env()["CGO_ENABLED"] != "0" {
				t.Error("CGO_ENABLED=0 is not set for `go build`: the binary may link libc, which distroless/static lacks")
			}
			if !slices.Contains(words, "-trimpath") {
				t.Error("`go build` without -trimpath")
			}
			if !strings.HasPrefix(d.Stages[0].Image, "golang:1.26") {
				t.Errorf("builder image %s, want golang:1.26 (the toolchain go.work names)", d.Stages[0].Image)
			}
		}},
		{"ends on a distroless or scratch image as a non-root user", func(t *testing.T, _ *repo, d *dockerfile) {
			final := d.final()
			if !strings.HasPrefix(final.Image, "gcr.io/distroless/static") && final.Image != "scratch" {
				t.Errorf("final image %s, want gcr.io/distroless/static-* or scratch", final.Image)
			}
			users := final.all("USER")
			if len(users) == 0 {
				t.Fatal("no USER in the final stage (Kubernetes runAsNonRoot needs a numeric one)")
			}
			user, _, _ := strings.Cut(users[len(users)-1].Args, ":")
			if uid, err := strconv.Atoi(user); err != nil || uid == 0 {
				t.Errorf("USER %s, want a numeric uid other than 0", users[len(users)-1].Args)
			}
		}},
		{"runs the binary it copies from the build stage", func(t *testing.T, _ *repo, d *dockerfile) {
			final := d.final()
			eps := final.all("ENTRYPOINT")
			if len(eps) != 1 {
				t.Fatalf("%d ENTRYPOINTs in the final stage, want 1", len(eps))
			}
			ep := execForm(t, eps[0])
			if len(ep) == 0 {
				return
			}
			if path.Base(ep[0]) != d.Binary {
				t.Errorf("ENTRYPOINT runs %s, not the %s binary", ep[0], d.Binary)
			}
			copied := map[string]bool{}
			for _, in := range final.all("COPY") {
				fields := strings.Fields(in.Args)
				if len(fields) < 3 || !strings.HasPrefix(fields[0], "--from=") {
					continue
				}
				srcs, dest := fields[1:len(fields)-1], fields[len(fields)-1]
				for _, src := range srcs {
					if strings.HasSuffix(dest, "/") {
						copied[dest+path.Base(src)] = true
					} else {
						copied[dest] = true
					}
				}
			}
			if !copied[ep[0]] {
				t.Errorf("ENTRYPOINT %s is not a file the final stage copies (copied: %v)", ep[0], sortedKeys(copied))
			}
		}},
		{"exposes the port the binary listens on, and nothing else", func(t *testing.T, r *repo, d *dockerfile) {
			b, ok := r.Binaries[d.Binary]
			if !ok {
				t.Skip("unknown binary")
			}
			var exposed []int
			for _, in := range d.final().all("EXPOSE") {
				for _, f := range strings.Fields(in.Args) {
					p, err := strconv.Atoi(strings.TrimSuffix(f, "/tcp"))
					if err != nil {
						t.Errorf("EXPOSE %s is not a port number", f)
					}
					exposed = append(exposed, p)
				}
			}
			switch {
			case b.Port == 0 && len(exposed) > 0:
				t.Errorf("EXPOSE %v, but %s serves nothing", exposed, b.Name)
			case b.Port != 0 && !slices.Equal(exposed, []int{b.Port}):
				t.Errorf("EXPOSE %v, want [%d] (%s's default port)", exposed, b.Port, b.Name)
			}
		}},
		{"makes the binary listen on every interface of the container", func(t *testing.T, r *repo, d *dockerfile) {
			b, ok := r.Binaries[d.Binary]
			if !ok || b.Port == 0 {
				t.Skip("serves nothing")
			}
			final := d.final()
			if b.ListenVar != "" {
				if got := final.env()[b.ListenVar]; got != "0.0.0.0:"+strconv.Itoa(b.Port) {
					t.Errorf("ENV %s=%q, want 0.0.0.0:%d (its default listens on loopback only)", b.ListenVar, got, b.Port)
				}
				return
			}
			cmds := final.all("CMD")
			if len(cmds) != 1 {
				t.Fatalf("%s takes its address from -%s: want one CMD setting it", b.Name, b.ListenFlag)
			}
			if got := flagValue(execForm(t, cmds[0]), b.ListenFlag); got != "0.0.0.0:"+strconv.Itoa(b.Port) {
				t.Errorf("CMD sets -%s %q, want 0.0.0.0:%d", b.ListenFlag, got, b.Port)
			}
		}},
		{"sets only variables the binary reads", func(t *testing.T, r *repo, d *dockerfile) {
			b, ok := r.Binaries[d.Binary]
			if !ok {
				t.Skip("unknown binary")
			}
			for _, k := range sortedKeys(d.final().env()) {
				if !b.accepts(k) {
					t.Errorf("ENV %s: %s does not read it", k, b.Name)
				}
			}
		}},
	}
}

// flagValue returns the value after -name or --name, or in -name=value.
func flagValue(args []string, name string) string {
	for i, a := range args {
		trimmed := strings.TrimLeft(a, "-")
		if !strings.HasPrefix(a, "-") {
			continue
		}
		if k, v, ok := strings.Cut(trimmed, "="); ok && k == name {
			return v
		}
		if trimmed == name && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

func TestDockerfiles(t *testing.T) {
	r := loadRepo(t)
	files := loadDockerfiles(t, r)
	for _, d := range files {
		t.Run(filepath.Base(d.Path), func(t *testing.T) {
			for _, c := range dockerfileChecks() {
				t.Run(c.name, func(t *testing.T) { c.check(t, r, d) })
			}
		})
	}
	t.Run("every deployable binary has a Dockerfile", func(t *testing.T) {
		have := map[string]bool{}
		for _, d := range files {
			have[d.Binary] = true
		}
		// The binaries an operator deploys; the sandboxes' images are optional.
		for _, name := range []string{"employee-directory", "contract-sync", "document-archive", "gateway", "flexflowctl"} {
			if !have[name] {
				t.Errorf("no deploy/docker/%s.Dockerfile", name)
			}
		}
	})
	t.Run("the build context keeps out secrets and local data", func(t *testing.T) {
		raw, err := os.ReadFile(r.path(".dockerignore"))
		if err != nil {
			t.Fatalf("no .dockerignore at the repository root: %v", err)
		}
		lines := strings.Split(string(raw), "\n")
		for _, want := range []string{".git", "bin", ".flexflow", "deploy/compose/secrets"} {
			if !slices.Contains(lines, want) {
				t.Errorf(".dockerignore does not exclude %s", want)
			}
		}
		for _, p := range lines {
			p = strings.TrimSpace(p)
			if p == "" || strings.HasPrefix(p, "#") {
				continue
			}
			for _, needed := range []string{"go.work", "services", "gateway", "libs", "proto", "deploy"} {
				if p == needed || p == needed+"/" {
					t.Errorf(".dockerignore excludes %s, which the builds need", needed)
				}
			}
		}
	})
}
