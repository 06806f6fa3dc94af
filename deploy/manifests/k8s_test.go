package manifests_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// intOrString is a Kubernetes port reference: a number or a port name.
type intOrString string

// UnmarshalYAML keeps the scalar as written.
func (p *intOrString) UnmarshalYAML(n *yaml.Node) error {
	*p = intOrString(n.Value)
	return nil
}

type keyRef struct {
	Name string `yaml:"name"`
	Key  string `yaml:"key"`
}

type envEntry struct {
	Name      string  `yaml:"name"`
	Value     *string `yaml:"value"`
	ValueFrom *struct {
		SecretKeyRef     *keyRef `yaml:"secretKeyRef"`
		ConfigMapKeyRef  *keyRef `yaml:"configMapKeyRef"`
		FieldRef         any     `yaml:"fieldRef"`
		ResourceFieldRef any     `yaml:"resourceFieldRef"`
	} `yaml:"valueFrom"`
}

type probe struct {
	GRPC *struct {
		Port    int    `yaml:"port"`
		Service string `yaml:"service"`
	} `yaml:"grpc"`
	HTTPGet *struct {
		Path string      `yaml:"path"`
		Port intOrString `yaml:"port"`
	} `yaml:"httpGet"`
	TCPSocket *struct {
		Port intOrString `yaml:"port"`
	} `yaml:"tcpSocket"`
	Exec any `yaml:"exec"`
}

type container struct {
	Name  string `yaml:"name"`
	Image string `yaml:"image"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	Env     []envEntry `yaml:"env"`
	EnvFrom []struct {
		ConfigMapRef *struct {
			Name string `yaml:"name"`
		} `yaml:"configMapRef"`
		SecretRef *struct {
			Name string `yaml:"name"`
		} `yaml:"secretRef"`
	} `yaml:"envFrom"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	} `yaml:"volumeMounts"`
	StartupProbe   *probe `yaml:"startupProbe"`
	ReadinessProbe *probe `yaml:"readinessProbe"`
	LivenessProbe  *probe `yaml:"livenessProbe"`
	Resources      struct {
		Requests map[string]string `yaml:"requests"`
		Limits   map[string]string `yaml:"limits"`
	} `yaml:"resources"`
	SecurityContext struct {
		RunAsNonRoot             *bool `yaml:"runAsNonRoot"`
		AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
		ReadOnlyRootFilesystem   *bool `yaml:"readOnlyRootFilesystem"`
		Capabilities             struct {
			Drop []string `yaml:"drop"`
		} `yaml:"capabilities"`
	} `yaml:"securityContext"`
}

// hasPort reports whether p (a number or a name) is one of the container's
// ports.
func (c *container) hasPort(p intOrString) bool {
	for _, cp := range c.Ports {
		if string(p) == cp.Name || string(p) == strconv.Itoa(cp.ContainerPort) {
			return true
		}
	}
	return false
}

type volume struct {
	Name   string `yaml:"name"`
	Secret *struct {
		SecretName string `yaml:"secretName"`
		Items      []struct {
			Key  string `yaml:"key"`
			Path string `yaml:"path"`
		} `yaml:"items"`
	} `yaml:"secret"`
}

type deploymentSpec struct {
	Replicas int `yaml:"replicas"`
	Selector struct {
		MatchLabels map[string]string `yaml:"matchLabels"`
	} `yaml:"selector"`
	Template struct {
		Metadata struct {
			Labels map[string]string `yaml:"labels"`
		} `yaml:"metadata"`
		Spec struct {
			AutomountServiceAccountToken *bool `yaml:"automountServiceAccountToken"`
			SecurityContext              struct {
				RunAsNonRoot *bool `yaml:"runAsNonRoot"`
				RunAsUser    *int  `yaml:"runAsUser"`
			} `yaml:"securityContext"`
			Containers     []container `yaml:"containers"`
			InitContainers []container `yaml:"initContainers"`
			Volumes        []volume    `yaml:"volumes"`
		} `yaml:"spec"`
	} `yaml:"template"`
}

type serviceSpec struct {
	Selector map[string]string `yaml:"selector"`
	Ports    []struct {
		Name       string      `yaml:"name"`
		Port       int         `yaml:"port"`
		TargetPort intOrString `yaml:"targetPort"`
	} `yaml:"ports"`
}

type ingressBackend struct {
	Service struct {
		Name string `yaml:"name"`
		Port struct {
			Name   string `yaml:"name"`
			Number int    `yaml:"number"`
		} `yaml:"port"`
	} `yaml:"service"`
}

type ingressSpec struct {
	TLS []struct {
		Hosts      []string `yaml:"hosts"`
		SecretName string   `yaml:"secretName"`
	} `yaml:"tls"`
	Rules []struct {
		Host string `yaml:"host"`
		HTTP struct {
			Paths []struct {
				Path     string         `yaml:"path"`
				PathType string         `yaml:"pathType"`
				Backend  ingressBackend `yaml:"backend"`
			} `yaml:"paths"`
		} `yaml:"http"`
	} `yaml:"rules"`
}

type pdbSpec struct {
	MinAvailable   *int `yaml:"minAvailable"`
	MaxUnavailable *int `yaml:"maxUnavailable"`
	Selector       struct {
		MatchLabels map[string]string `yaml:"matchLabels"`
	} `yaml:"selector"`
}

// object is one Kubernetes (or kustomize) document.
type object struct {
	File       string
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name      string            `yaml:"name"`
		Namespace string            `yaml:"namespace"`
		Labels    map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Spec       yaml.Node         `yaml:"spec"`
	Data       map[string]string `yaml:"data"`
	StringData map[string]string `yaml:"stringData"`
	// Kustomization
	Resources []string `yaml:"resources"`
	Images    []struct {
		Name string `yaml:"name"`
	} `yaml:"images"`
}

func (o *object) id() string { return o.Kind + " " + o.Metadata.Name }

// cluster is every object of deploy/k8s, by kind.
type cluster struct {
	Dir        string
	Objects    []*object
	Namespace  string
	Deploy     map[string]*deploymentSpec
	Services   map[string]*serviceSpec
	Ingresses  map[string]*ingressSpec
	PDBs       map[string]*pdbSpec
	ConfigMaps map[string]map[string]string
	Secrets    map[string]map[string]string
	Kustomize  *object
}

func loadCluster(t *testing.T, r *repo) *cluster {
	t.Helper()
	dir := r.path("deploy", "k8s")
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no deploy/k8s/*.yaml")
	}
	c := &cluster{Dir: dir, Deploy: map[string]*deploymentSpec{}, Services: map[string]*serviceSpec{},
		Ingresses: map[string]*ingressSpec{}, PDBs: map[string]*pdbSpec{},
		ConfigMaps: map[string]map[string]string{}, Secrets: map[string]map[string]string{}}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(raw))
		for i := 0; ; i++ {
			o := &object{File: filepath.Base(f)}
			err := dec.Decode(o)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s, document %d: %v", f, i+1, err)
			}
			if o.Kind == "" && o.APIVersion == "" {
				continue // an empty document
			}
			c.Objects = append(c.Objects, o)
			decodeSpec := func(into any) {
				if err := o.Spec.Decode(into); err != nil {
					t.Fatalf("%s: %s: %v", o.File, o.id(), err)
				}
			}
			switch o.Kind {
			case "Namespace":
				c.Namespace = o.Metadata.Name
			case "Deployment":
				var s deploymentSpec
				decodeSpec(&s)
				c.Deploy[o.Metadata.Name] = &s
			case "Service":
				var s serviceSpec
				decodeSpec(&s)
				c.Services[o.Metadata.Name] = &s
			case "Ingress":
				var s ingressSpec
				decodeSpec(&s)
				c.Ingresses[o.Metadata.Name] = &s
			case "PodDisruptionBudget":
				var s pdbSpec
				decodeSpec(&s)
				c.PDBs[o.Metadata.Name] = &s
			case "ConfigMap":
				c.ConfigMaps[o.Metadata.Name] = o.Data
			case "Secret":
				keys := map[string]string{}
				for k, v := range o.Data {
					keys[k] = v
				}
				for k, v := range o.StringData {
					keys[k] = v
				}
				c.Secrets[o.Metadata.Name] = keys
			case "Kustomization":
				c.Kustomize = o
			}
		}
	}
	return c
}

// selects reports whether every label of selector is in labels.
func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// deploymentFor returns the names of the Deployments whose pods selector
// picks.
func (c *cluster) deploymentsFor(selector map[string]string) []string {
	var out []string
	for _, name := range sortedKeys(c.Deploy) {
		if selects(selector, c.Deploy[name].Template.Metadata.Labels) {
			out = append(out, name)
		}
	}
	return out
}

// serviceHost turns a dial host into a Service name of the namespace
// ("name", "name.ns", "name.ns.svc", "name.ns.svc.cluster.local").
func (c *cluster) serviceHost(host string) (string, bool) {
	parts := strings.Split(host, ".")
	if len(parts) > 1 && parts[1] != c.Namespace {
		return "", false
	}
	_, ok := c.Services[parts[0]]
	return parts[0], ok
}

// resolvedEnv is where a container's variable comes from.
type resolvedEnv struct {
	Value  string // inline or from a ConfigMap
	Inline bool
	Secret bool // from a Secret (secretKeyRef or envFrom secretRef)
}

// env resolves a container's variables, failing the test on references to
// ConfigMaps, Secrets or keys that do not exist.
func (c *cluster) env(t *testing.T, ctr *container) map[string]resolvedEnv {
	t.Helper()
	out := map[string]resolvedEnv{}
	for _, ef := range ctr.EnvFrom {
		switch {
		case ef.ConfigMapRef != nil:
			cm, ok := c.ConfigMaps[ef.ConfigMapRef.Name]
			if !ok {
				t.Errorf("envFrom names ConfigMap %s, which does not exist", ef.ConfigMapRef.Name)
			}
			for k, v := range cm {
				out[k] = resolvedEnv{Value: v}
			}
		case ef.SecretRef != nil:
			s, ok := c.Secrets[ef.SecretRef.Name]
			if !ok {
				t.Errorf("envFrom names Secret %s, which does not exist", ef.SecretRef.Name)
			}
			for k := range s {
				out[k] = resolvedEnv{Secret: true}
			}
		}
	}
	for _, e := range ctr.Env {
		switch {
		case e.Value != nil:
			out[e.Name] = resolvedEnv{Value: *e.Value, Inline: true}
		case e.ValueFrom != nil && e.ValueFrom.ConfigMapKeyRef != nil:
			ref := e.ValueFrom.ConfigMapKeyRef
			v, ok := c.ConfigMaps[ref.Name][ref.Key]
			if !ok {
				t.Errorf("%s: ConfigMap %s has no key %s", e.Name, ref.Name, ref.Key)
			}
			out[e.Name] = resolvedEnv{Value: v}
		case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
			ref := e.ValueFrom.SecretKeyRef
			if _, ok := c.Secrets[ref.Name][ref.Key]; !ok {
				t.Errorf("%s: Secret %s has no key %s", e.Name, ref.Name, ref.Key)
			}
			out[e.Name] = resolvedEnv{Secret: true}
		case e.ValueFrom != nil:
			out[e.Name] = resolvedEnv{}
		default:
			t.Errorf("%s has neither value nor valueFrom", e.Name)
		}
	}
	return out
}

// deploymentCheck is one rule for every container of every Deployment.
type deploymentCheck struct {
	name  string
	check func(t *testing.T, r *repo, c *cluster, d *deploymentSpec, ctr *container, b *binary)
}

func deploymentChecks() []deploymentCheck {
	return []deploymentCheck{
		{"declares the binary's port", func(t *testing.T, _ *repo, _ *cluster, _ *deploymentSpec, ctr *container, b *binary) {
			if b.Port == 0 {
				t.Skip("serves nothing")
			}
			if !ctr.hasPort(intOrString(strconv.Itoa(b.Port))) || len(ctr.Ports) != 1 {
				t.Errorf("container ports %+v, want exactly %d (%s's port)", ctr.Ports, b.Port, b.Name)
			}
		}},
		{"listens on every interface of the pod", func(t *testing.T, _ *repo, c *cluster, _ *deploymentSpec, ctr *container, b *binary) {
			if b.ListenVar == "" {
				t.Skip("no listen variable")
			}
			got := c.env(t, ctr)[b.ListenVar].Value
			if want := "0.0.0.0:" + strconv.Itoa(b.Port); got != want {
				t.Errorf("%s = %q, want %s (the default listens on loopback only)", b.ListenVar, got, want)
			}
		}},
		{"sets only variables the binary reads", func(t *testing.T, _ *repo, c *cluster, _ *deploymentSpec, ctr *container, b *binary) {
			for _, k := range sortedKeys(c.env(t, ctr)) {
				if !b.accepts(k) {
					t.Errorf("%s: %s does not read it", k, b.Name)
				}
			}
		}},
		{"sets every variable the binary requires", func(t *testing.T, _ *repo, c *cluster, _ *deploymentSpec, ctr *container, b *binary) {
			env := c.env(t, ctr)
			for _, name := range sortedKeys(b.Vars) {
				v := b.Vars[name]
				if !v.Required {
					continue
				}
				_, direct := env[name]
				_, file := env[name+"_FILE"]
				if !direct && !(v.Secret && file) {
					t.Errorf("%s is required by %s and not set", name, b.Name)
				}
			}
		}},
		{"never inlines a secret or takes one from a ConfigMap", func(t *testing.T, _ *repo, c *cluster, _ *deploymentSpec, ctr *container, b *binary) {
			for name, e := range c.env(t, ctr) {
				if v, ok := b.Vars[name]; ok && v.Secret && !e.Secret {
					t.Errorf("%s is a secret of %s: take it from a Secret (secretKeyRef or %s_FILE), not a value or ConfigMap", name, b.Name, name)
				}
			}
		}},
		{"points every *_FILE at a key of a mounted Secret", func(t *testing.T, _ *repo, c *cluster, d *deploymentSpec, ctr *container, b *binary) {
			volumes := map[string]volume{}
			for _, v := range d.Template.Spec.Volumes {
				volumes[v.Name] = v
			}
			for name, e := range c.env(t, ctr) {
				base, ok := strings.CutSuffix(name, "_FILE")
				if !ok || !b.Vars[base].Secret {
					continue
				}
				dir, file := path.Split(e.Value)
				found := false
				for _, m := range ctr.VolumeMounts {
					if strings.TrimSuffix(m.MountPath, "/") != strings.TrimSuffix(dir, "/") {
						continue
					}
					v, ok := volumes[m.Name]
					if !ok || v.Secret == nil {
						t.Errorf("%s = %s: volume %s is not a Secret volume", name, e.Value, m.Name)
						continue
					}
					keys, ok := c.Secrets[v.Secret.SecretName]
					if !ok {
						t.Errorf("%s: volume %s mounts Secret %s, which does not exist", name, m.Name, v.Secret.SecretName)
						continue
					}
					key := file
					if len(v.Secret.Items) > 0 {
						key = ""
						for _, it := range v.Secret.Items {
							if it.Path == file {
								key = it.Key
							}
						}
					}
					if _, ok := keys[key]; !ok {
						t.Errorf("%s = %s: no such key in Secret %s as mounted", name, e.Value, v.Secret.SecretName)
					}
					found = true
				}
				if !found {
					t.Errorf("%s = %s is under no volume mount of the container", name, e.Value)
				}
			}
		}},
		{"probes readiness and liveness on the container's port", func(t *testing.T, _ *repo, _ *cluster, _ *deploymentSpec, ctr *container, b *binary) {
			if b.Port == 0 {
				t.Skip("serves nothing")
			}
			if ctr.ReadinessProbe == nil || ctr.LivenessProbe == nil {
				t.Fatal("a readiness or a liveness probe is missing")
			}
			for kind, p := range map[string]*probe{"startup": ctr.StartupProbe, "readiness": ctr.ReadinessProbe, "liveness": ctr.LivenessProbe} {
				if p == nil {
					continue
				}
				var port intOrString
				switch {
				case p.GRPC != nil:
					port = intOrString(strconv.Itoa(p.GRPC.Port))
				case p.HTTPGet != nil:
					port = p.HTTPGet.Port
				case p.TCPSocket != nil:
					port = p.TCPSocket.Port
				default:
					t.Errorf("%s probe is neither grpc, httpGet nor tcpSocket (the image has no shell for exec)", kind)
					continue
				}
				if !ctr.hasPort(port) {
					t.Errorf("%s probe targets port %s, which the container does not declare", kind, port)
				}
			}
		}},
		{"asks a gRPC service's health on its gRPC port and the gateway's over HTTP", func(t *testing.T, _ *repo, _ *cluster, _ *deploymentSpec, ctr *container, b *binary) {
			if b.ListenVar == "" {
				t.Skip("not a service")
			}
			p := ctr.ReadinessProbe
			if p == nil {
				t.Fatal("no readiness probe")
			}
			if b.Name == "gateway" {
				if p.HTTPGet == nil || p.HTTPGet.Path != "/healthz" {
					t.Error("gateway readiness is not httpGet /healthz")
				}
				return
			}
			if p.GRPC == nil || p.GRPC.Port != b.Port {
				t.Errorf("readiness is not the gRPC health of port %d", b.Port)
			}
		}},
		{"requests and limits CPU and memory", func(t *testing.T, _ *repo, _ *cluster, _ *deploymentSpec, ctr *container, _ *binary) {
			for _, res := range []string{"cpu", "memory"} {
				if ctr.Resources.Requests[res] == "" || ctr.Resources.Limits[res] == "" {
					t.Errorf("%s request or limit missing", res)
				}
			}
		}},
		{"runs as non-root, read-only, without privileges", func(t *testing.T, _ *repo, _ *cluster, d *deploymentSpec, ctr *container, _ *binary) {
			pod := d.Template.Spec.SecurityContext
			sc := ctr.SecurityContext
			if !(pod.RunAsNonRoot != nil && *pod.RunAsNonRoot) && !(sc.RunAsNonRoot != nil && *sc.RunAsNonRoot) {
				t.Error("runAsNonRoot is not true")
			}
			if pod.RunAsUser != nil && *pod.RunAsUser == 0 {
				t.Error("runAsUser 0")
			}
			if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
				t.Error("readOnlyRootFilesystem is not true")
			}
			if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				t.Error("allowPrivilegeEscalation is not false")
			}
			if !slices.Contains(sc.Capabilities.Drop, "ALL") {
				t.Error("capabilities do not drop ALL")
			}
		}},
		{"dials other services by Service name and port", func(t *testing.T, r *repo, c *cluster, _ *deploymentSpec, ctr *container, b *binary) {
			env := c.env(t, ctr)
			for _, name := range sortedKeys(env) {
				target := r.binaryByListenVar(name)
				if target == nil || target == b {
					continue
				}
				host, port := hostPort(t, name, env[name].Value)
				svcName, ok := c.serviceHost(host)
				if !ok {
					t.Errorf("%s = %s: no Service %s in namespace %s", name, env[name].Value, host, c.Namespace)
					continue
				}
				svc := c.Services[svcName]
				var servicePort *intOrString
				for _, p := range svc.Ports {
					if p.Port == port {
						tp := p.TargetPort
						servicePort = &tp
					}
				}
				if servicePort == nil {
					t.Errorf("%s = %s: Service %s has no port %d", name, env[name].Value, svcName, port)
					continue
				}
				for _, dep := range c.deploymentsFor(svc.Selector) {
					for _, peer := range c.Deploy[dep].Template.Spec.Containers {
						if peer.hasPort(*servicePort) && imageBinary(r, peer.Image) != target.Name {
							t.Errorf("%s = %s reaches %s, not %s", name, env[name].Value, imageBinary(r, peer.Image), target.Name)
						}
					}
				}
			}
		}},
		{"reaches the existing NATS cluster with 3 replicas", func(t *testing.T, _ *repo, c *cluster, _ *deploymentSpec, ctr *container, b *binary) {
			if _, reads := b.Vars["NATS_URL"]; !reads {
				t.Skip("does not use NATS")
			}
			env := c.env(t, ctr)
			raw := env["NATS_URL"].Value
			if raw == "" {
				t.Fatal("NATS_URL is empty: the pod would run its own embedded NATS")
			}
			for _, u := range strings.Split(raw, ",") {
				if parsed, err := url.Parse(u); err != nil || parsed.Scheme != "nats" || parsed.Port() == "" {
					t.Errorf("NATS_URL entry %q is not nats://host:port", u)
				}
			}
			if _, reads := b.Vars["NATS_REPLICAS"]; !reads {
				return // no streams or buckets of its own (employee-directory: notices only)
			}
			if got := env["NATS_REPLICAS"].Value; got != "3" {
				t.Errorf("NATS_REPLICAS = %q, want 3", got)
			}
		}},
	}
}

func TestKubernetes(t *testing.T) {
	r := loadRepo(t)
	c := loadCluster(t, r)
	if c.Namespace == "" {
		t.Fatal("no Namespace in deploy/k8s")
	}

	for _, name := range sortedKeys(c.Deploy) {
		d := c.Deploy[name]
		t.Run("Deployment "+name, func(t *testing.T) {
			if !selects(d.Selector.MatchLabels, d.Template.Metadata.Labels) {
				t.Error("the selector does not match the pod template's labels")
			}
			if len(d.Template.Spec.Containers) == 0 {
				t.Fatal("no containers")
			}
			for i := range d.Template.Spec.Containers {
				ctr := &d.Template.Spec.Containers[i]
				bin := imageBinary(r, ctr.Image)
				if bin == "" {
					t.Errorf("container %s: image %s is no flexflow binary's (flexflow/<binary>:<tag>)", ctr.Name, ctr.Image)
					continue
				}
				b := r.Binaries[bin]
				for _, ch := range deploymentChecks() {
					t.Run(ch.name, func(t *testing.T) { ch.check(t, r, c, d, ctr, b) })
				}
			}
		})
	}

	cases := []struct {
		name  string
		check func(t *testing.T)
	}{
		{"every object has a kind, a name and the flexflow namespace", func(t *testing.T) {
			for _, o := range c.Objects {
				if o.APIVersion == "" || o.Kind == "" || (o.Metadata.Name == "" && o.Kind != "Kustomization") {
					t.Errorf("%s: a document lacks apiVersion, kind or metadata.name", o.File)
				}
				switch o.Kind {
				case "Namespace", "Kustomization":
				default:
					if o.Metadata.Namespace != c.Namespace {
						t.Errorf("%s: %s is in namespace %q, want %q", o.File, o.id(), o.Metadata.Namespace, c.Namespace)
					}
				}
			}
		}},
		{"runs every service and the gateway", func(t *testing.T) {
			for _, want := range []string{"employee-directory", "contract-sync", "document-archive", "gateway"} {
				d, ok := c.Deploy[want]
				if !ok {
					t.Errorf("no Deployment %s", want)
					continue
				}
				if d.Replicas < 2 {
					t.Errorf("Deployment %s has %d replicas; every one of them scales horizontally, run 2 for availability", want, d.Replicas)
				}
			}
		}},
		{"every Service selects one Deployment and targets its ports", func(t *testing.T) {
			for _, name := range sortedKeys(c.Services) {
				svc := c.Services[name]
				deps := c.deploymentsFor(svc.Selector)
				if len(deps) != 1 {
					t.Errorf("Service %s selects Deployments %v, want exactly one", name, deps)
					continue
				}
				for _, p := range svc.Ports {
					found := false
					for _, ctr := range c.Deploy[deps[0]].Template.Spec.Containers {
						found = found || ctr.hasPort(p.TargetPort)
					}
					if !found {
						t.Errorf("Service %s port %d targets %q, which Deployment %s does not declare", name, p.Port, p.TargetPort, deps[0])
					}
				}
			}
		}},
		{"every PodDisruptionBudget covers one Deployment and lets a pod go", func(t *testing.T) {
			for _, name := range sortedKeys(c.PDBs) {
				p := c.PDBs[name]
				deps := c.deploymentsFor(p.Selector.MatchLabels)
				if len(deps) != 1 {
					t.Errorf("PodDisruptionBudget %s selects %v, want one Deployment", name, deps)
					continue
				}
				if p.MinAvailable != nil && *p.MinAvailable >= c.Deploy[deps[0]].Replicas {
					t.Errorf("PodDisruptionBudget %s: minAvailable %d with %d replicas blocks every drain", name, *p.MinAvailable, c.Deploy[deps[0]].Replicas)
				}
			}
		}},
		{"the Ingress ends TLS and sends Oneflow's webhooks to a gateway route", func(t *testing.T) {
			routes := gatewayRoutes(t, r)
			sawWebhook := false
			for _, name := range sortedKeys(c.Ingresses) {
				ing := c.Ingresses[name]
				hosts := map[string]bool{}
				for _, tls := range ing.TLS {
					if tls.SecretName == "" {
						t.Errorf("Ingress %s: a tls entry without secretName", name)
					}
					for _, h := range tls.Hosts {
						hosts[h] = true
					}
				}
				for _, rule := range ing.Rules {
					if !hosts[rule.Host] {
						t.Errorf("Ingress %s: host %s is served without TLS (Oneflow only calls HTTPS)", name, rule.Host)
					}
					for _, p := range rule.HTTP.Paths {
						be := p.Backend.Service
						svc, ok := c.Services[be.Name]
						if !ok {
							t.Errorf("Ingress %s: backend Service %s does not exist", name, be.Name)
							continue
						}
						portOK := false
						for _, sp := range svc.Ports {
							portOK = portOK || (be.Port.Name != "" && sp.Name == be.Port.Name) || (be.Port.Number != 0 && sp.Port == be.Port.Number)
						}
						if !portOK {
							t.Errorf("Ingress %s: Service %s has no port %+v", name, be.Name, be.Port)
						}
						deps := c.deploymentsFor(svc.Selector)
						if len(deps) != 1 || imageBinary(r, c.Deploy[deps[0]].Template.Spec.Containers[0].Image) != "gateway" {
							t.Errorf("Ingress %s: path %s goes to %v, not the gateway", name, p.Path, deps)
						}
						if !routes[p.Path] {
							t.Errorf("Ingress %s: path %s is no route of the gateway's OpenAPI document", name, p.Path)
						}
						sawWebhook = sawWebhook || p.Path == "/v1/webhooks/oneflow"
					}
				}
			}
			if !sawWebhook {
				t.Error("no Ingress path /v1/webhooks/oneflow")
			}
		}},
		{"the example Secret holds only placeholders and is never applied by kustomize", func(t *testing.T) {
			for _, o := range c.Objects {
				if o.Kind != "Secret" {
					continue
				}
				for k, v := range c.Secrets[o.Metadata.Name] {
					for _, part := range strings.Split(v, ",") {
						if !strings.HasPrefix(part, "REPLACE_WITH_") {
							t.Errorf("%s: key %s holds something other than a REPLACE_WITH_ placeholder", o.File, k)
						}
					}
				}
				if c.Kustomize != nil && slices.Contains(c.Kustomize.Resources, o.File) {
					t.Errorf("kustomization.yaml applies %s: `kubectl apply -k` would overwrite the real Secret with placeholders", o.File)
				}
			}
		}},
		{"kustomization.yaml lists files that exist and images the Deployments use", func(t *testing.T) {
			if c.Kustomize == nil {
				t.Skip("no kustomization.yaml")
			}
			for _, res := range c.Kustomize.Resources {
				if _, err := os.Stat(filepath.Join(c.Dir, res)); err != nil {
					t.Errorf("resource %s: %v", res, err)
				}
			}
			used := map[string]bool{}
			for _, d := range c.Deploy {
				for _, ctr := range d.Template.Spec.Containers {
					name, _, _ := strings.Cut(ctr.Image, ":")
					used[name] = true
				}
			}
			for _, img := range c.Kustomize.Images {
				if !used[img.Name] {
					t.Errorf("images entry %s matches no container image", img.Name)
				}
			}
		}},
	}
	for _, tt := range cases {
		t.Run(tt.name, tt.check)
	}
}

// gatewayRoutes returns the paths of the gateway's generated OpenAPI
// document (the REST routes of the google.api.http annotations).
func gatewayRoutes(t *testing.T, r *repo) map[string]bool {
	t.Helper()
	p := r.path("proto", "gen", "go", "openapi", "flexflow.swagger.json")
	raw, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	out := map[string]bool{}
	for k := range doc.Paths {
		out[k] = true
	}
	return out
}
