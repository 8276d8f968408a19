package deploy

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/roomgate/roomgate/internal/metrics"
)

// readDocs reads every YAML document of a file.
func readDocs(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var docs []map[string]any
	for _, part := range strings.Split(string(data), "\n---\n") {
		var doc map[string]any
		if err := yaml.Unmarshal([]byte(part), &doc); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if doc != nil {
			docs = append(docs, doc)
		}
	}
	return docs
}

// TestExtras: the PodMonitor scrapes the port the pods name metrics, the
// alerts use only metrics roomgate has, and the HTTPRoute sends traffic
// to the Service's http port.
func TestExtras(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	m := metrics.New()
	m.BuildInfo("test")
	m.SetProviders([]string{"oidc"}) // as serve does
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	exposed := rec.Body.String()

	pm := readDocs(t, filepath.Join("kubernetes", "extras", "podmonitor.yaml"))[0]
	if port := str(pm, "spec", "podMetricsEndpoints", 0, "port"); port != "metrics" {
		t.Errorf("PodMonitor scrapes port %q; want metrics", port)
	}
	rules := readDocs(t, filepath.Join("kubernetes", "extras", "prometheusrule.yaml"))[0]
	name := regexp.MustCompile(`roomgate_[a-z_]+`)
	text, _ := yaml.Marshal(rules)
	for _, metric := range name.FindAllString(string(text), -1) {
		if !strings.Contains(exposed, "# TYPE "+metric+" ") {
			t.Errorf("the PrometheusRule uses %s, which roomgate does not expose", metric)
		}
	}
	route := readDocs(t, filepath.Join("kubernetes", "extras", "httproute.yaml"))[0]
	if str(route, "spec", "rules", 0, "backendRefs", 0, "name") != "roomgate" || get(route, "spec", "rules", 0, "backendRefs", 0, "port") != 80 {
		t.Errorf("the HTTPRoute does not send traffic to the roomgate Service's port 80")
	}
	byKind := manifests(t)
	d := one(t, byKind, "Deployment")
	c := container(t, d)
	limit := str(c, "resources", "limits", "memory")
	var gomem string
	for _, e := range list(c, "env") {
		if e.(map[string]any)["name"] == "GOMEMLIMIT" {
			gomem, _ = e.(map[string]any)["value"].(string)
		}
	}
	if limit != "256Mi" || gomem != "200MiB" {
		t.Errorf("GOMEMLIMIT %q with a memory limit of %q; want headroom below the limit", gomem, limit)
	}
	np := one(t, byKind, "NetworkPolicy")
	for _, port := range []string{"http", "metrics"} {
		if containerPort(c, port) == 0 || !strings.Contains(string(mustYAML(t, np)), "port: "+port) {
			t.Errorf("the NetworkPolicy does not let anyone reach port %s", port)
		}
	}
}

func mustYAML(t *testing.T, v any) []byte {
	t.Helper()
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestKustomizeSQLite: the one-host overlay patches the base's Deployment
// and container by their names, mounts the claim it makes, and deletes the
// base's PodDisruptionBudget by its name (kubectl kustomize
// deploy/kubernetes-sqlite shows the result).
func TestKustomizeSQLite(t *testing.T) {
	t.Parallel()
	base := manifests(t)
	k := readDocs(t, filepath.Join("kubernetes-sqlite", "kustomization.yaml"))[0]
	if !slices.Contains(list(k, "resources"), any("../kubernetes")) || !slices.Contains(list(k, "resources"), any("pvc.yaml")) {
		t.Errorf("the overlay's resources: %v; want ../kubernetes and pvc.yaml", list(k, "resources"))
	}
	pvc := readDocs(t, filepath.Join("kubernetes-sqlite", "pvc.yaml"))[0]
	patch := readDocs(t, filepath.Join("kubernetes-sqlite", "deployment.yaml"))[0]
	d := one(t, base, "Deployment")
	if str(patch, "metadata", "name") != str(d, "metadata", "name") ||
		str(patch, "spec", "template", "spec", "containers", 0, "name") != str(container(t, d), "name") {
		t.Error("the Deployment patch names another Deployment or container than the base's")
	}
	if get(patch, "spec", "replicas") != 1 || str(patch, "spec", "strategy", "type") != "Recreate" {
		t.Error("the overlay must run one replica, replaced rather than rolled")
	}
	if str(patch, "spec", "template", "spec", "volumes", 0, "persistentVolumeClaim", "claimName") != str(pvc, "metadata", "name") {
		t.Error("the Deployment mounts another claim than the overlay makes")
	}
	if str(patch, "spec", "template", "spec", "containers", 0, "volumeMounts", 0, "mountPath") != "/var/lib/roomgate" {
		t.Error("the volume is not at /var/lib/roomgate, where the docs put the file")
	}
	pdb := one(t, base, "PodDisruptionBudget")
	deleted := false
	for _, p := range list(k, "patches") {
		if s := str(p, "patch"); strings.Contains(s, "$patch: delete") && strings.Contains(s, "kind: PodDisruptionBudget") && strings.Contains(s, "name: "+str(pdb, "metadata", "name")) {
			deleted = true
		}
	}
	if !deleted {
		t.Error("the overlay keeps the base's PodDisruptionBudget, which blocks every drain of one replica")
	}
}
