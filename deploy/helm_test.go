//go:build helm

package deploy

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/roomgate/roomgate/config"
)

// helmBin is helm from PATH or GOPATH/bin (.ci/run installs it there).
func helmBin(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("helm"); err == nil {
		return p
	}
	gopath, _ := exec.Command("go", "env", "GOPATH").Output()
	p := filepath.Join(strings.TrimSpace(string(gopath)), "bin", "helm")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("helm is not installed (go install helm.sh/helm/v3/cmd/helm@v3.22.0; .ci/run does): %v", err)
	}
	return p
}

// TestHelmChart: helm lint passes; helm template renders the objects the
// kustomize manifests have (and the extras, when enabled); the ConfigMap's
// config.yaml is a valid roomgate file whose metrics port is the pod's and
// whose ${VAR}s the Deployment takes from the Secret; and values.yaml
// documents every key of roomgate's configuration.
func TestHelmChart(t *testing.T) {
	helm := helmBin(t)
	chart := filepath.Join("helm", "roomgate")
	if out, err := exec.Command(helm, "lint", "--strict", chart).CombinedOutput(); err != nil {
		t.Fatalf("helm lint: %v\n%s", err, out)
	}
	out, err := exec.Command(helm, "template", "meet", chart,
		"--set", "ingress.enabled=true,httpRoute.enabled=true,networkPolicy.enabled=true,podMonitor.enabled=true,prometheusRule.enabled=true",
		"--set", "secrets.OIDC_CLIENT_SECRET=x,secrets.SESSION_SECRET=y,secrets.DS_DEVELOPER_KEY=z").CombinedOutput()
	if err != nil {
		t.Fatalf("helm template: %v\n%s", err, out)
	}
	byKind := map[string][]map[string]any{}
	dec := yaml.NewDecoder(bytes.NewReader(out))
	for {
		var doc map[string]any
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("helm template output: %v", err)
		}
		if doc != nil {
			byKind[doc["kind"].(string)] = append(byKind[doc["kind"].(string)], doc)
		}
	}
	kustomize := manifests(t)
	want := []string{"PodMonitor", "PrometheusRule", "HTTPRoute"}
	for kind := range kustomize {
		if kind != "Kustomization" {
			want = append(want, kind)
		}
	}
	for _, kind := range want {
		if len(byKind[kind]) != 1 {
			t.Errorf("helm renders %d %s; want 1, as deploy/kubernetes has", len(byKind[kind]), kind)
		}
	}
	cm := byKind["ConfigMap"][0]
	file := str(cm, "data", "config.yaml")
	cfg, err := config.Parse("config.yaml", []byte(file), config.Options{LookupEnv: func(string) (string, bool) { return strings.Repeat("s", 40), true }})
	if err != nil {
		t.Fatalf("the chart's config.yaml: %v", err)
	}
	d := byKind["Deployment"][0]
	c, _ := get(d, "spec", "template", "spec", "containers", 0).(map[string]any)
	if !strings.HasSuffix(cfg.Server.MetricsListen, ":9090") || containerPort(c, "metrics") != 9090 {
		t.Errorf("metrics_listen %q, container port %d; want both 9090", cfg.Server.MetricsListen, containerPort(c, "metrics"))
	}
	var fromSecret []string
	for _, e := range list(c, "env") {
		if get(e, "valueFrom", "secretKeyRef") != nil {
			fromSecret = append(fromSecret, str(e, "name"))
		}
	}
	for _, m := range regexp.MustCompile(`\$\{([A-Z_]+)\}`).FindAllStringSubmatch(file, -1) {
		if !slices.Contains(fromSecret, m[1]) {
			t.Errorf("config.yaml needs ${%s}; the Deployment does not take it from the Secret", m[1])
		}
	}
	if str(d, "spec", "template", "metadata", "annotations", "checksum/secret") == "" {
		t.Error("no checksum/secret annotation: a Secret change would not roll the pods")
	}
	values, err := os.ReadFile(filepath.Join(chart, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range config.Keys() {
		leaf := key[strings.LastIndexByte(key, '.')+1:]
		if !strings.Contains(string(values), leaf+":") {
			t.Errorf("values.yaml does not document %s", key)
		}
	}
}
