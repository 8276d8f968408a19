// Package deploy holds example deployments of roomgate (Kubernetes
// manifests and a systemd unit). Its test parses every one of them and
// checks that they fit together and with roomgate: probes on the right
// paths, the config the ConfigMap carries is valid, every secret it refers
// to is provided, and the hardening is in place.
package deploy

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/roomgate/roomgate/config"
)

// object is one Kubernetes manifest, as decoded YAML.
type object = map[string]any

// get follows keys (strings for maps, ints for lists) and returns what is
// there, or nil.
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func str(v any, path ...any) string {
	s, _ := get(v, path...).(string)
	return s
}

func list(v any, path ...any) []any {
	l, _ := get(v, path...).([]any)
	return l
}

// manifests reads every YAML document in deploy/kubernetes, by kind.
func manifests(t *testing.T) map[string][]object {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("kubernetes", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in deploy/kubernetes (%v)", err)
	}
	byKind := map[string][]object{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for i := 0; ; i++ {
			var doc map[string]any
			err := dec.Decode(&doc)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: document %d: %v", f, i, err)
			}
			if doc == nil {
				continue
			}
			o := object(doc)
			kind := str(o, "kind")
			if kind == "" || str(o, "apiVersion") == "" {
				t.Errorf("%s: document %d has no kind or apiVersion", f, i)
			}
			if kind != "Kustomization" && str(o, "metadata", "name") == "" {
				t.Errorf("%s: %s has no metadata.name", f, kind)
			}
			o["_file"] = filepath.Base(f)
			byKind[kind] = append(byKind[kind], o)
		}
	}
	return byKind
}

// one returns the only object of kind.
func one(t *testing.T, byKind map[string][]object, kind string) object {
	t.Helper()
	if n := len(byKind[kind]); n != 1 {
		t.Fatalf("got %d %s manifests; want 1", n, kind)
	}
	return byKind[kind][0]
}

// container returns the Deployment's roomgate container.
func container(t *testing.T, d object) map[string]any {
	t.Helper()
	for _, c := range list(d, "spec", "template", "spec", "containers") {
		if str(c, "name") == "roomgate" {
			return c.(map[string]any)
		}
	}
	t.Fatal("the Deployment has no container named roomgate")
	return nil
}

// containerPort returns the port named name, or 0.
func containerPort(c map[string]any, name string) int {
	for _, p := range list(c, "ports") {
		if str(p, "name") == name {
			n, _ := get(p, "containerPort").(int)
			return n
		}
	}
	return 0
}

// matches reports whether selector's labels are all among labels.
func matches(selector, labels any) bool {
	sel, _ := selector.(map[string]any)
	lab, _ := labels.(map[string]any)
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if lab[k] != v {
			return false
		}
	}
	return true
}

func TestKustomizationListsEveryManifest(t *testing.T) {
	t.Parallel()
	byKind := manifests(t)
	k := one(t, byKind, "Kustomization")
	var listed []string
	for _, r := range list(k, "resources") {
		listed = append(listed, r.(string))
	}
	for kind, objs := range byKind {
		for _, o := range objs {
			file := o["_file"].(string)
			switch {
			case kind == "Kustomization":
			case kind == "Secret":
				// Never applied by kustomize: it would overwrite real secrets.
				if slices.Contains(listed, file) {
					t.Errorf("kustomization.yaml lists %s; an example Secret must never be applied", file)
				}
			case !slices.Contains(listed, file):
				t.Errorf("kustomization.yaml does not list %s (%s)", file, kind)
			}
		}
	}
	for _, f := range listed {
		if _, err := os.Stat(filepath.Join("kubernetes", f)); err != nil {
			t.Errorf("kustomization.yaml lists %s: %v", f, err)
		}
	}
}

func TestDeployment(t *testing.T) {
	t.Parallel()
	byKind := manifests(t)
	d := one(t, byKind, "Deployment")
	c := container(t, d)

	if n, _ := get(d, "spec", "replicas").(int); n < 2 {
		t.Errorf("replicas: got %d; want at least 2", n)
	}
	if !matches(get(d, "spec", "selector", "matchLabels"), get(d, "spec", "template", "metadata", "labels")) {
		t.Error("the Deployment's selector does not match its pods' labels")
	}

	pod := get(d, "spec", "template", "spec")
	checks := []struct {
		name string
		got  any
		want any
	}{
		{"pod runAsNonRoot", get(pod, "securityContext", "runAsNonRoot"), true},
		{"pod seccompProfile", str(pod, "securityContext", "seccompProfile", "type"), "RuntimeDefault"},
		{"pod automountServiceAccountToken", get(pod, "automountServiceAccountToken"), false},
		{"readOnlyRootFilesystem", get(c, "securityContext", "readOnlyRootFilesystem"), true},
		{"allowPrivilegeEscalation", get(c, "securityContext", "allowPrivilegeEscalation"), false},
		{"capabilities dropped", fmt.Sprint(get(c, "securityContext", "capabilities", "drop")), "[ALL]"},
		{"liveness path", str(c, "livenessProbe", "httpGet", "path"), "/healthz"},
		{"readiness path", str(c, "readinessProbe", "httpGet", "path"), "/readyz"},
		{"liveness port", str(c, "livenessProbe", "httpGet", "port"), "http"},
		{"readiness port", str(c, "readinessProbe", "httpGet", "port"), "http"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s: got %v; want %v", ch.name, ch.got, ch.want)
		}
	}
	if uid, _ := get(pod, "securityContext", "runAsUser").(int); uid == 0 {
		t.Error("runAsUser: want a numeric non-root user, so the kubelet can check runAsNonRoot")
	}
	for _, r := range []string{"cpu", "memory"} {
		if get(c, "resources", "requests", r) == nil {
			t.Errorf("resources.requests.%s is not set", r)
		}
	}
	if get(c, "resources", "limits", "memory") == nil {
		t.Error("resources.limits.memory is not set")
	}
	if containerPort(c, "http") == 0 {
		t.Error("the container has no port named http")
	}
}

// TestConfigMap checks the file the ConfigMap carries: it is valid, the
// Deployment mounts it where the container reads it, its ports are the
// container's and every ${VAR} in it comes from the Secret.
func TestConfigMap(t *testing.T) {
	t.Parallel()
	byKind := manifests(t)
	d := one(t, byKind, "Deployment")
	c := container(t, d)
	cm := one(t, byKind, "ConfigMap")
	secret := one(t, byKind, "Secret")

	// Mounted as a directory, so updates reach the pods.
	var volume string
	for _, v := range list(d, "spec", "template", "spec", "volumes") {
		if str(v, "configMap", "name") == str(cm, "metadata", "name") {
			volume = str(v, "name")
		}
	}
	if volume == "" {
		t.Fatal("no volume of the Deployment is the ConfigMap")
	}
	var mountPath string
	for _, m := range list(c, "volumeMounts") {
		if str(m, "name") == volume {
			mountPath = str(m, "mountPath")
			if str(m, "subPath") != "" {
				t.Error("the ConfigMap is mounted with subPath: updates would never reach the pod")
			}
		}
	}
	args := list(c, "args")
	i := slices.Index(args, any("-config"))
	if i < 0 || i+1 >= len(args) {
		t.Fatalf("args %v have no -config", args)
	}
	if got, want := args[i+1], mountPath+"/config.yaml"; got != want {
		t.Errorf("-config %v; want %q, the file in the mounted ConfigMap", got, want)
	}

	// Environment from the Secret.
	env := map[string]string{}
	for _, e := range list(c, "env") {
		ref := get(e, "valueFrom", "secretKeyRef")
		if ref == nil {
			continue
		}
		if got, want := str(ref, "name"), str(secret, "metadata", "name"); got != want {
			t.Errorf("env %s comes from Secret %q; want %q", str(e, "name"), got, want)
		}
		key := str(ref, "key")
		v, ok := get(secret, "stringData", key).(string)
		if !ok {
			t.Errorf("env %s: the Secret has no key %s", str(e, "name"), key)
		}
		env[str(e, "name")] = v
	}

	text := str(cm, "data", "config.yaml")
	for _, name := range envRefs(text) {
		if _, ok := env[name]; !ok {
			t.Errorf("config.yaml refers to ${%s}, which the Deployment does not set from the Secret", name)
		}
	}

	// The example Secret's placeholders must not start roomgate, so that
	// applying the example by mistake fails instead of running with a
	// session secret everyone can read here.
	_, err := config.Parse("configmap.yaml:config.yaml", []byte(text), config.Options{
		LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok },
	})
	if err == nil || !strings.Contains(err.Error(), "session.secret: too short") {
		t.Errorf("with the example Secret's placeholders: got %v; want session.secret refused as too short", err)
	}

	// With real secrets, the file is valid.
	cfg, err := config.Parse("configmap.yaml:config.yaml", []byte(text), config.Options{
		LookupEnv: func(k string) (string, bool) {
			_, ok := env[k]
			return strings.Repeat("x", 48), ok
		},
	})
	if err != nil {
		t.Fatalf("the ConfigMap's config.yaml is not valid:\n%v", err)
	}

	ports := []struct{ name, listen string }{
		{"http", cfg.Server.Listen},
		{"metrics", cfg.Server.MetricsListen},
	}
	for _, p := range ports {
		_, port, err := net.SplitHostPort(p.listen)
		if err != nil {
			t.Errorf("%s listen %q: %v", p.name, p.listen, err)
			continue
		}
		if got := fmt.Sprint(containerPort(c, p.name)); got != port {
			t.Errorf("container port %s is %s; want %s, where config.yaml listens", p.name, got, port)
		}
	}
	if cfg.Server.MetricsListen == "" {
		t.Error("metrics_listen is empty: /metrics would be served through the Ingress")
	}
}

func TestServiceIngressAndBudget(t *testing.T) {
	t.Parallel()
	byKind := manifests(t)
	d := one(t, byKind, "Deployment")
	c := container(t, d)
	podLabels := get(d, "spec", "template", "metadata", "labels")
	svc := one(t, byKind, "Service")
	ing := one(t, byKind, "Ingress")
	pdb := one(t, byKind, "PodDisruptionBudget")

	if !matches(get(svc, "spec", "selector"), podLabels) {
		t.Error("the Service's selector does not match the pods")
	}
	svcPorts := map[string]bool{}
	for _, p := range list(svc, "spec", "ports") {
		svcPorts[str(p, "name")] = true
		if target := str(p, "targetPort"); containerPort(c, target) == 0 {
			t.Errorf("Service port %s targets %q, which the container does not have", str(p, "name"), target)
		}
	}

	if len(list(ing, "spec", "tls")) == 0 {
		t.Error("the Ingress has no TLS")
	}
	for _, r := range list(ing, "spec", "rules") {
		for _, p := range list(r, "http", "paths") {
			b := get(p, "backend", "service")
			if got, want := str(b, "name"), str(svc, "metadata", "name"); got != want {
				t.Errorf("Ingress backend service %q; want %q", got, want)
			}
			port := str(b, "port", "name")
			if !svcPorts[port] {
				t.Errorf("Ingress backend port %q is not a port of the Service", port)
			}
			if port == "metrics" {
				t.Error("the Ingress exposes the metrics port")
			}
		}
	}

	if !matches(get(pdb, "spec", "selector", "matchLabels"), podLabels) {
		t.Error("the PodDisruptionBudget's selector does not match the pods")
	}
	replicas, _ := get(d, "spec", "replicas").(int)
	if min, _ := get(pdb, "spec", "minAvailable").(int); min < 1 || min >= replicas {
		t.Errorf("PodDisruptionBudget minAvailable %d; want at least 1 and below replicas (%d)", min, replicas)
	}
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// envRefs returns the variables a YAML file refers to as ${VAR} outside
// comments.
func envRefs(yamlText string) []string {
	var names []string
	for _, line := range strings.Split(yamlText, "\n") {
		if i := strings.Index(line, "#"); i >= 0 {
			line = line[:i]
		}
		for _, m := range envRef.FindAllStringSubmatch(line, -1) {
			names = append(names, m[1])
		}
	}
	return names
}

// unit reads a systemd unit file: section, then key, then every value the
// key is given, in order.
func unit(t *testing.T, path string) map[string]map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]map[string][]string{}
	section := ""
	s := bufio.NewScanner(f)
	for n := 1; s.Scan(); n++ {
		line := strings.TrimSpace(s.Text())
		switch {
		case line == "", strings.HasPrefix(line, "#"), strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
			out[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s:%d: not key=value in a section: %q", path, n, line)
			}
			out[section][k] = append(out[section][k], v)
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSystemdUnit(t *testing.T) {
	t.Parallel()
	u := unit(t, filepath.Join("systemd", "roomgate.service"))
	svc := u["Service"]
	if svc == nil {
		t.Fatal("no [Service] section")
	}
	want := map[string]string{
		"ExecReload":              "/bin/kill -HUP $MAINPID",
		"KillSignal":              "SIGTERM",
		"EnvironmentFile":         "/etc/roomgate/roomgate.env",
		"DynamicUser":             "yes",
		"NoNewPrivileges":         "yes",
		"ProtectSystem":           "strict",
		"ProtectHome":             "yes",
		"PrivateTmp":              "yes",
		"CapabilityBoundingSet":   "",
		"MemoryDenyWriteExecute":  "yes",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
	}
	for k, v := range want {
		got := svc[k]
		if len(got) == 0 || got[len(got)-1] != v {
			t.Errorf("%s=%q; want %q", k, got, v)
		}
	}
	if exec := strings.Join(svc["ExecStart"], " "); !strings.Contains(exec, " serve -config /etc/roomgate/config.yaml") {
		t.Errorf("ExecStart=%s; want roomgate serve -config /etc/roomgate/config.yaml", exec)
	}
	if got := u["Install"]["WantedBy"]; !slices.Equal(got, []string{"multi-user.target"}) {
		t.Errorf("WantedBy=%q; want multi-user.target", got)
	}

	// The example environment file sets exactly the variables the config
	// example refers to.
	data, err := os.ReadFile(filepath.Join("systemd", "roomgate.env.example"))
	if err != nil {
		t.Fatal(err)
	}
	var vars []string
	for _, line := range strings.Split(string(data), "\n") {
		if k, _, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			vars = append(vars, k)
		}
	}
	example, err := os.ReadFile(filepath.Join("..", "config.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range envRefs(string(example)) {
		if !slices.Contains(vars, name) {
			t.Errorf("config.example.yaml refers to ${%s}; roomgate.env.example does not set it", name)
		}
	}
}
