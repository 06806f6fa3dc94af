package manifests_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// envMap is a compose `environment`, given as a map or as KEY=VALUE list.
type envMap map[string]string

// UnmarshalYAML accepts both forms compose accepts.
func (e *envMap) UnmarshalYAML(n *yaml.Node) error {
	out := envMap{}
	if n.Kind == yaml.SequenceNode {
		var list []string
		if err := n.Decode(&list); err != nil {
			return err
		}
		for _, kv := range list {
			k, v, _ := strings.Cut(kv, "=")
			out[k] = v
		}
	} else {
		var m map[string]string
		if err := n.Decode(&m); err != nil {
			return err
		}
		for k, v := range m {
			out[k] = v
		}
	}
	*e = out
	return nil
}

type composeService struct {
	Image string `yaml:"image"`
	Build *struct {
		Context    string `yaml:"context"`
		Dockerfile string `yaml:"dockerfile"`
	} `yaml:"build"`
	Hostname    string   `yaml:"hostname"`
	Command     []string `yaml:"command"`
	Environment envMap   `yaml:"environment"`
	Secrets     []string `yaml:"secrets"`
	Ports       []string `yaml:"ports"`
	Profiles    []string `yaml:"profiles"`
	ReadOnly    bool     `yaml:"read_only"`
	CapDrop     []string `yaml:"cap_drop"`
	Healthcheck *struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
	DependsOn map[string]struct {
		Condition string `yaml:"condition"`
		Required  *bool  `yaml:"required"`
	} `yaml:"depends_on"`
}

type composeFile struct {
	Dir      string
	Services map[string]composeService `yaml:"services"`
	Secrets  map[string]struct {
		File string `yaml:"file"`
	} `yaml:"secrets"`
	Volumes map[string]any `yaml:"volumes"`
}

func loadCompose(t *testing.T, r *repo) *composeFile {
	t.Helper()
	p := r.path("deploy", "compose", "compose.yaml")
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(raw, &c); err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	c.Dir = filepath.Dir(p)
	if len(c.Services) == 0 {
		t.Fatalf("%s: no services", p)
	}
	return &c
}

// interpolation matches compose's ${VAR}, ${VAR:-default} and ${VAR-default}.
var interpolation = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:?-([^}]*))?\}`)

// interpolate resolves every ${...} as compose does with none of the
// variables set: to its default, or empty.
func interpolate(s string) string {
	return interpolation.ReplaceAllString(s, "$3")
}

// imageBinary names the flexflow binary an image holds ("" when it is not
// a flexflow image): the last path element without the tag.
func imageBinary(r *repo, image string) string {
	name := path.Base(image)
	name, _, _ = strings.Cut(name, ":")
	if _, ok := r.Binaries[name]; ok && strings.Contains(image, "flexflow/") {
		return name
	}
	return ""
}

// secretValue reads the file of a compose secret, with interpolation
// resolved as on a machine that sets none of the variables.
func (c *composeFile) secretValue(t *testing.T, name string) string {
	t.Helper()
	s, ok := c.Secrets[name]
	if !ok {
		t.Fatalf("no top-level secret %s", name)
	}
	p := interpolate(s.File)
	if !filepath.IsAbs(p) {
		p = filepath.Join(c.Dir, p)
	}
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("secret %s: %v", name, err)
	}
	return strings.TrimSpace(string(raw))
}

// value resolves a variable of a service: inline (with interpolation) or
// through X_FILE and the compose secret it names.
func (c *composeFile) value(t *testing.T, service, name string) string {
	t.Helper()
	env := c.Services[service].Environment
	if v, ok := env[name]; ok {
		return interpolate(v)
	}
	if f, ok := env[name+"_FILE"]; ok {
		return c.secretValue(t, strings.TrimPrefix(f, "/run/secrets/"))
	}
	t.Fatalf("%s sets neither %s nor %s_FILE", service, name, name)
	return ""
}

// hostPort splits an address and fails the test when it is not one.
func hostPort(t *testing.T, what, addr string) (string, int) {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Errorf("%s = %q is not host:port: %v", what, addr, err)
		return "", 0
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		t.Errorf("%s = %q: port is not a number", what, addr)
	}
	return host, n
}

// composeCheck is one rule every compose service running a flexflow binary
// must follow.
type composeCheck struct {
	name  string
	check func(t *testing.T, r *repo, c *composeFile, name string, s composeService, b *binary)
}

func composeChecks() []composeCheck {
	return []composeCheck{
		{"is built from the binary's Dockerfile with the repository as context", func(t *testing.T, r *repo, c *composeFile, _ string, s composeService, b *binary) {
			if s.Build == nil {
				t.Fatal("no build section: `docker compose up --build` could not build it")
			}
			if ctx := filepath.Join(c.Dir, s.Build.Context); ctx != r.Root {
				t.Errorf("build context %s is not the repository root (go.work spans every module)", s.Build.Context)
			}
			want := "deploy/docker/" + b.Name + ".Dockerfile"
			if s.Build.Dockerfile != want {
				t.Errorf("dockerfile %s, want %s", s.Build.Dockerfile, want)
			}
			if _, err := os.Stat(r.path(filepath.FromSlash(s.Build.Dockerfile))); err != nil {
				t.Error(err)
			}
		}},
		{"sets only variables the binary reads", func(t *testing.T, _ *repo, _ *composeFile, _ string, s composeService, b *binary) {
			for _, k := range sortedKeys(s.Environment) {
				if !b.accepts(k) {
					t.Errorf("%s: %s does not read it", k, b.Name)
				}
			}
		}},
		{"sets every variable the binary requires", func(t *testing.T, _ *repo, _ *composeFile, _ string, s composeService, b *binary) {
			for _, name := range sortedKeys(b.Vars) {
				v := b.Vars[name]
				if !v.Required {
					continue
				}
				_, inline := s.Environment[name]
				_, file := s.Environment[name+"_FILE"]
				if !inline && !(v.Secret && file) {
					t.Errorf("%s is required by %s and not set", name, b.Name)
				}
			}
		}},
		{"takes every secret from a compose secret file, never inline", func(t *testing.T, _ *repo, c *composeFile, _ string, s composeService, b *binary) {
			for _, k := range sortedKeys(s.Environment) {
				if v, ok := b.Vars[k]; ok && v.Secret {
					t.Errorf("%s is a secret of %s and is written inline; use %s_FILE", k, b.Name, k)
				}
				base, ok := strings.CutSuffix(k, "_FILE")
				if !ok || !b.Vars[base].Secret {
					continue
				}
				secret, ok := strings.CutPrefix(s.Environment[k], "/run/secrets/")
				if !ok {
					t.Errorf("%s = %q is not under /run/secrets/", k, s.Environment[k])
					continue
				}
				if !slices.Contains(s.Secrets, secret) {
					t.Errorf("%s names secret %s, which the service does not mount", k, secret)
				}
				if _, ok := c.Secrets[secret]; !ok {
					t.Errorf("%s names secret %s, which compose.yaml does not define", k, secret)
				}
			}
		}},
		{"listens on every interface, on the binary's port", func(t *testing.T, _ *repo, _ *composeFile, name string, s composeService, b *binary) {
			if b.Port == 0 {
				t.Skip("serves nothing")
			}
			var addr, what string
			if b.ListenVar != "" {
				addr, what = s.Environment[b.ListenVar], b.ListenVar
			} else {
				addr, what = flagValue(s.Command, b.ListenFlag), "-"+b.ListenFlag
			}
			host, port := hostPort(t, what, addr)
			if port != b.Port {
				t.Errorf("%s = %q, want port %d", what, addr, b.Port)
			}
			if host != "0.0.0.0" && host != name && host != s.Hostname {
				t.Errorf("%s = %q listens on %s, which other containers cannot reach", what, addr, host)
			}
		}},
		{"publishes only the binary's port", func(t *testing.T, _ *repo, _ *composeFile, _ string, s composeService, b *binary) {
			for _, p := range s.Ports {
				parts := strings.Split(p, ":")
				if port, _ := strconv.Atoi(parts[len(parts)-1]); port != b.Port {
					t.Errorf("publishes %s; %s listens on %d", p, b.Name, b.Port)
				}
			}
		}},
		{"has a healthcheck probing the binary's port", func(t *testing.T, _ *repo, _ *composeFile, _ string, s composeService, b *binary) {
			if b.Port == 0 {
				t.Skip("serves nothing")
			}
			if s.Healthcheck == nil || len(s.Healthcheck.Test) < 2 {
				t.Fatal("no healthcheck")
			}
			test := s.Healthcheck.Test
			if test[0] != "CMD" {
				t.Errorf("healthcheck %v: the images have no shell, use the CMD form", test)
			}
			if test[1] != "/usr/local/bin/healthcheck" {
				t.Errorf("healthcheck runs %s; the images carry /usr/local/bin/healthcheck", test[1])
			}
			target := test[len(test)-1]
			if u, err := url.Parse(target); err == nil && u.Host != "" {
				target = u.Host
			}
			if _, port := hostPort(t, "healthcheck target", target); port != b.Port {
				t.Errorf("healthcheck %v does not probe port %d", test, b.Port)
			}
		}},
		{"dials other flexflow services by their compose names and ports", func(t *testing.T, r *repo, c *composeFile, _ string, s composeService, b *binary) {
			for _, k := range sortedKeys(s.Environment) {
				target := r.binaryByListenVar(k)
				if target == nil || target == b {
					continue
				}
				host, port := hostPort(t, k, s.Environment[k])
				peer, ok := c.Services[host]
				if !ok {
					t.Errorf("%s = %s: no compose service %s", k, s.Environment[k], host)
					continue
				}
				if got := imageBinary(r, peer.Image); got != target.Name {
					t.Errorf("%s = %s: service %s runs %q, not %s", k, s.Environment[k], host, got, target.Name)
				}
				if port != target.Port {
					t.Errorf("%s = %s: %s listens on %d", k, s.Environment[k], target.Name, target.Port)
				}
			}
		}},
		{"reaches NATS on every JetStream node, with no more replicas than nodes", func(t *testing.T, r *repo, c *composeFile, _ string, s composeService, b *binary) {
			raw, ok := s.Environment["NATS_URL"]
			if !ok {
				if _, reads := b.Vars["NATS_URL"]; reads {
					t.Error("NATS_URL is not set: the service would start its own embedded NATS")
				}
				return
			}
			nodes := 0
			for _, u := range strings.Split(raw, ",") {
				parsed, err := url.Parse(strings.TrimSpace(u))
				if err != nil || parsed.Scheme != "nats" {
					t.Errorf("NATS_URL entry %q is not a nats:// URL", u)
					continue
				}
				node, ok := c.Services[parsed.Hostname()]
				if !ok || !strings.HasPrefix(node.Image, "nats:") {
					t.Errorf("NATS_URL names %s, which is no NATS service of compose.yaml", parsed.Hostname())
					continue
				}
				nodes++
			}
			if _, reads := b.Vars["NATS_REPLICAS"]; !reads {
				return // no streams or buckets of its own (employee-directory: notices only)
			}
			replicas, err := strconv.Atoi(s.Environment["NATS_REPLICAS"])
			if err != nil || replicas < 1 || replicas > nodes {
				t.Errorf("NATS_REPLICAS = %q with %d NATS nodes listed", s.Environment["NATS_REPLICAS"], nodes)
			}
			if replicas != 3 {
				t.Errorf("NATS_REPLICAS = %d, want 3 (the cluster's size)", replicas)
			}
		}},
		{"exports traces to a service of the stack", func(t *testing.T, _ *repo, c *composeFile, _ string, s composeService, b *binary) {
			if !b.Telemetry {
				t.Skip("no telemetry")
			}
			u, err := url.Parse(s.Environment["OTEL_EXPORTER_OTLP_ENDPOINT"])
			if err != nil || u.Hostname() == "" {
				t.Fatalf("OTEL_EXPORTER_OTLP_ENDPOINT = %q is not a URL", s.Environment["OTEL_EXPORTER_OTLP_ENDPOINT"])
			}
			if _, ok := c.Services[u.Hostname()]; !ok {
				t.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT names %s, which is no service of compose.yaml", u.Hostname())
			}
		}},
		{"runs read-only without capabilities", func(t *testing.T, _ *repo, _ *composeFile, _ string, s composeService, _ *binary) {
			if !s.ReadOnly {
				t.Error("read_only is not true")
			}
			if !slices.Contains(s.CapDrop, "ALL") {
				t.Error("cap_drop does not drop ALL")
			}
		}},
		{"runs only on demand when it serves nothing or stands in for a vendor", func(t *testing.T, _ *repo, _ *composeFile, _ string, s composeService, b *binary) {
			sandbox := strings.HasSuffix(b.Name, "-sandbox")
			switch {
			case sandbox && !slices.Equal(s.Profiles, []string{"sandbox"}):
				t.Errorf("profiles %v, want [sandbox]", s.Profiles)
			case !sandbox && b.Port == 0 && len(s.Profiles) == 0:
				t.Error("a tool without a profile would run with every `up`")
			case !sandbox && b.Port != 0 && len(s.Profiles) != 0:
				t.Errorf("profiles %v: the stack would start without it", s.Profiles)
			}
		}},
	}
}

func TestCompose(t *testing.T) {
	r := loadRepo(t)
	c := loadCompose(t, r)
	for _, name := range sortedKeys(c.Services) {
		s := c.Services[name]
		bin := imageBinary(r, s.Image)
		if bin == "" {
			continue
		}
		b := r.Binaries[bin]
		t.Run(name, func(t *testing.T) {
			for _, ch := range composeChecks() {
				t.Run(ch.name, func(t *testing.T) { ch.check(t, r, c, name, s, b) })
			}
		})
	}

	stack := []struct {
		name  string
		check func(t *testing.T)
	}{
		{"runs every service and the gateway from its image", func(t *testing.T) {
			running := map[string]bool{}
			for _, s := range c.Services {
				running[imageBinary(r, s.Image)] = len(s.Profiles) == 0
			}
			for _, want := range []string{"employee-directory", "contract-sync", "document-archive", "gateway"} {
				if !running[want] {
					t.Errorf("no service runs %s by default", want)
				}
			}
		}},
		{"runs a 3-node NATS cluster with JetStream", func(t *testing.T) {
			nodes := 0
			for _, name := range sortedKeys(c.Services) {
				s := c.Services[name]
				if !strings.HasPrefix(s.Image, "nats:") {
					continue
				}
				nodes++
				if s.Environment["SERVER_NAME"] != name {
					t.Errorf("%s: SERVER_NAME %q, want its own name (JetStream needs unique server names)", name, s.Environment["SERVER_NAME"])
				}
				if s.Healthcheck == nil {
					t.Errorf("%s: no healthcheck, so services cannot wait for JetStream", name)
				}
			}
			if nodes != 3 {
				t.Fatalf("%d NATS services, want 3", nodes)
			}
			conf, err := os.ReadFile(filepath.Join(c.Dir, "nats", "nats.conf"))
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"jetstream", "cluster", "server_name: $SERVER_NAME", "nats-route://nats-1:6222", "nats-route://nats-2:6222", "nats-route://nats-3:6222"} {
				if !strings.Contains(string(conf), want) {
					t.Errorf("nats.conf lacks %q", want)
				}
			}
		}},
		{"runs Jaeger v2 with OTLP and its UI", func(t *testing.T) {
			j, ok := c.Services["jaeger"]
			if !ok || !strings.HasPrefix(j.Image, "jaegertracing/jaeger:2.") {
				t.Fatalf("no jaeger service on a jaegertracing/jaeger:2.x image")
			}
			for _, port := range []string{"4317", "4318", "16686"} {
				found := false
				for _, p := range j.Ports {
					found = found || strings.HasSuffix(p, ":"+port)
				}
				if !found {
					t.Errorf("jaeger does not publish %s", port)
				}
			}
		}},
		{"depends only on services it defines", func(t *testing.T) {
			for _, name := range sortedKeys(c.Services) {
				for dep, d := range c.Services[name].DependsOn {
					target, ok := c.Services[dep]
					if !ok {
						t.Errorf("%s depends on %s, which does not exist", name, dep)
						continue
					}
					optional := d.Required != nil && !*d.Required
					if len(target.Profiles) > 0 && len(c.Services[name].Profiles) == 0 && !optional {
						t.Errorf("%s depends on %s, which runs only with profile %v: mark it required: false", name, dep, target.Profiles)
					}
					if d.Condition == "service_healthy" && target.Healthcheck == nil {
						t.Errorf("%s waits for %s to be healthy, which has no healthcheck", name, dep)
					}
				}
			}
		}},
		{"has every secret file it names, in the sandbox default", func(t *testing.T) {
			for _, name := range sortedKeys(c.Secrets) {
				if c.secretValue(t, name) == "" {
					t.Errorf("secret %s is empty", name)
				}
			}
		}},
		{"gives contract-sync tokens its peers accept", func(t *testing.T) {
			for _, tt := range []struct{ presented, peer, accepted string }{
				{"EMPLOYEE_DIRECTORY_TOKEN", "employee-directory", "EMPLOYEE_DIRECTORY_TOKENS"},
				{"OPERATOR_TOKEN", "document-archive", "OPERATOR_TOKENS"},
			} {
				token := c.value(t, "contract-sync", tt.presented)
				accepted := strings.Split(c.value(t, tt.peer, tt.accepted), ",")
				for i := range accepted {
					accepted[i] = strings.TrimSpace(accepted[i])
				}
				if !slices.Contains(accepted, token) {
					t.Errorf("contract-sync presents %s, which is not among %s's %s", tt.presented, tt.peer, tt.accepted)
				}
			}
		}},
		{"gives the services what the sandboxes' default seeds accept", func(t *testing.T) {
			want := sandboxCredentials(t, r)
			for _, name := range sortedKeys(c.Services) {
				s := c.Services[name]
				b := r.Binaries[imageBinary(r, s.Image)]
				if b == nil || b.Port == 0 || strings.HasSuffix(b.Name, "-sandbox") {
					continue
				}
				for _, v := range sortedKeys(want) {
					if !b.accepts(v) {
						continue
					}
					if got := c.value(t, name, v); got != want[v] {
						t.Errorf("%s: %s differs from the sandbox seed's", name, v)
					}
				}
			}
		}},
	}
	for _, tt := range stack {
		t.Run("the stack "+tt.name, tt.check)
	}
}

// sandboxCredentials reads the sandboxes' default seeds: the values the
// services need to talk to them, by variable name.
func sandboxCredentials(t *testing.T, r *repo) map[string]string {
	t.Helper()
	var flex struct {
		Credentials struct {
			CustomerNumber string `json:"customerNumber"`
			Username       string `json:"username"`
			Password       string `json:"password"`
		} `json:"credentials"`
	}
	var one struct {
		APIToken  string `json:"api_token"`
		UserEmail string `json:"user_email"`
		SignKey   string `json:"sign_key"`
	}
	for _, f := range []struct {
		path string
		into any
	}{
		{r.path("libs", "flexhrm", "sandbox", "defaultseed.json"), &flex},
		{r.path("libs", "oneflow", "sandbox", "default_seed.json"), &one},
	} {
		raw, err := os.ReadFile(f.path)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, f.into); err != nil {
			t.Fatalf("%s: %v", f.path, err)
		}
	}
	c := flex.Credentials
	return map[string]string{
		"FLEXHRM_CREDENTIALS": base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("%s:%s:%s", c.CustomerNumber, c.Username, c.Password))),
		"ONEFLOW_API_TOKEN":   one.APIToken,
		"ONEFLOW_USER_EMAIL":  one.UserEmail,
		"ONEFLOW_SIGN_KEY":    one.SignKey,
	}
}
