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
	byKind, out, err := renderChart(t, helm, chart,
		"--set", "ingress.enabled=true,httpRoute.enabled=true,networkPolicy.enabled=true,podMonitor.enabled=true,prometheusRule.enabled=true",
		"--set", "secrets.OIDC_CLIENT_SECRET=x,secrets.SESSION_SECRET=y,secrets.DS_DEVELOPER_KEY=z")
	if err != nil {
		t.Fatalf("helm template: %v\n%s", err, out)
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

// renderChart runs helm template on chart with args and returns its
// objects by kind, and its output.
func renderChart(t *testing.T, helm, chart string, args ...string) (map[string][]map[string]any, string, error) {
	t.Helper()
	out, err := exec.Command(helm, append([]string{"template", "meet", chart}, args...)...).CombinedOutput()
	if err != nil {
		return nil, string(out), err
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
	return byKind, string(out), nil
}

// TestHelmChartConfigFile: the chart deploys the file the admin checked,
// byte for byte, so that roomgate's file:line points into it; every ${VAR}
// of that file reaches the pod, from the Secret, an existing Secret or
// extraEnv; and a variable without a source stops the render with its
// name, rather than a pod that cannot start.
func TestHelmChartConfigFile(t *testing.T) {
	helm := helmBin(t)
	chart := filepath.Join("helm", "roomgate")
	render := func(args ...string) (map[string][]map[string]any, string, error) {
		return renderChart(t, helm, chart, args...)
	}
	envOf := func(byKind map[string][]map[string]any) map[string]map[string]any {
		c, _ := get(byKind["Deployment"][0], "spec", "template", "spec", "containers", 0).(map[string]any)
		env := map[string]map[string]any{}
		for _, e := range list(c, "env") {
			m, _ := e.(map[string]any)
			env[str(m, "name")] = m
		}
		return env
	}
	three := "secrets.OIDC_CLIENT_SECRET=x,secrets.SESSION_SECRET=y,secrets.DS_DEVELOPER_KEY=z"

	// config.example.yaml verbatim: comments, order and all.
	example, err := os.ReadFile("../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	byKind, out, err := render("--set-file", "configFile=../config.example.yaml", "--set", three)
	if err != nil {
		t.Fatalf("helm template with configFile: %v\n%s", err, out)
	}
	if got := str(byKind["ConfigMap"][0], "data", "config.yaml"); strings.TrimRight(got, "\n") != strings.TrimRight(string(example), "\n") {
		t.Errorf("the ConfigMap's config.yaml is not the file given, verbatim")
	}
	if _, ok := envOf(byKind)["VAR"]; ok {
		t.Error("a ${VAR} in a comment became an environment variable")
	}

	// The README's rotation recipe and a Redis URL from variables.
	dir := t.TempDir()
	rotated := strings.Replace(string(example), `secret: "${SESSION_SECRET}"`, `secret: ["${SESSION_SECRET_NEW}", "${SESSION_SECRET_OLD}"]`, 1) +
		"\nstore:\n  redis:\n    url: \"${REDIS_URL}\"\n"
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(rotated), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, out, err := render("--set-file", "configFile="+path, "--set", three); err == nil || !strings.Contains(out, "${REDIS_URL}") && !strings.Contains(out, "${SESSION_SECRET_NEW}") {
		t.Errorf("a variable no source gives: %v\n%s\nwant the render refused, naming it", err, out)
	}
	byKind, out, err = render("--set-file", "configFile="+path, "--set", "secrets.OIDC_CLIENT_SECRET=x,secrets.SESSION_SECRET_NEW=n,secrets.SESSION_SECRET_OLD=o,secrets.DS_DEVELOPER_KEY=z",
		"--set", "extraEnv[0].name=REDIS_URL,extraEnv[0].value=redis://redis:6379/0")
	if err != nil {
		t.Fatalf("every variable given: %v\n%s", err, out)
	}
	env := envOf(byKind)
	for _, v := range []string{"OIDC_CLIENT_SECRET", "SESSION_SECRET_NEW", "SESSION_SECRET_OLD", "DS_DEVELOPER_KEY"} {
		if get(env[v], "valueFrom", "secretKeyRef") == nil {
			t.Errorf("%s does not come from the Secret: %v", v, env[v])
		}
	}
	if str(env["REDIS_URL"], "value") != "redis://redis:6379/0" || get(env["REDIS_URL"], "valueFrom") != nil {
		t.Errorf("REDIS_URL from extraEnv: %v", env["REDIS_URL"])
	}

	// The ports are the config's.
	ports := strings.Replace(string(example), `  listen: ":8080"`, `  listen: ":8443"`, 1) + "\n"
	ports = strings.Replace(ports, "server:\n", "server:\n  metrics_listen: \":9191\"\n", 1)
	if err := os.WriteFile(path, []byte(ports), 0o600); err != nil {
		t.Fatal(err)
	}
	byKind, out, err = render("--set-file", "configFile="+path, "--set", three)
	if err != nil {
		t.Fatalf("other ports: %v\n%s", err, out)
	}
	c, _ := get(byKind["Deployment"][0], "spec", "template", "spec", "containers", 0).(map[string]any)
	if containerPort(c, "http") != 8443 || containerPort(c, "metrics") != 9191 {
		t.Errorf("container ports %d and %d; want the config's 8443 and 9191", containerPort(c, "http"), containerPort(c, "metrics"))
	}

	// Under a path prefix, the probes are below it too.
	prefixed := strings.Replace(string(example), `public_url: "https://meet.example.com"`, `public_url: "https://intranet.example.com/meet"`, 1)
	if err := os.WriteFile(path, []byte(prefixed), 0o600); err != nil {
		t.Fatal(err)
	}
	byKind, out, err = render("--set-file", "configFile="+path, "--set", three)
	if err != nil {
		t.Fatalf("a path prefix: %v\n%s", err, out)
	}
	c, _ = get(byKind["Deployment"][0], "spec", "template", "spec", "containers", 0).(map[string]any)
	if str(c, "readinessProbe", "httpGet", "path") != "/meet/readyz" || str(c, "livenessProbe", "httpGet", "path") != "/meet/healthz" {
		t.Errorf("probes under public_url's path: %v, %v", get(c, "readinessProbe"), get(c, "livenessProbe"))
	}

	// An existing Secret: no Secret rendered, every variable taken from it.
	byKind, out, err = render("--set", "existingSecret=roomgate-prod")
	if err != nil {
		t.Fatalf("existingSecret: %v\n%s", err, out)
	}
	if len(byKind["Secret"]) != 0 {
		t.Error("a Secret is rendered beside existingSecret")
	}
	if str(envOf(byKind)["SESSION_SECRET"], "valueFrom", "secretKeyRef", "name") != "roomgate-prod" {
		t.Errorf("SESSION_SECRET not from the existing Secret: %v", envOf(byKind)["SESSION_SECRET"])
	}

	// The default values name no Secret that nothing creates.
	if _, out, err := render(); err == nil || !strings.Contains(out, "give it in secrets") {
		t.Errorf("default values: %v\n%s\nwant the render refused for want of secrets", err, out)
	}

	// The values a chart of this kind has.
	byKind, out, err = render("--set", three, "--set", "nodeSelector.disk=ssd,tolerations[0].key=dedicated,tolerations[0].operator=Exists,imagePullSecrets[0].name=regcred,podAnnotations.a=b,podLabels.team=it,ingress.enabled=true,ingress.annotations.x=y",
		"--set", "extraVolumes[0].name=ca,extraVolumes[0].configMap.name=company-ca,extraVolumeMounts[0].name=ca,extraVolumeMounts[0].mountPath=/etc/ssl/certs/ca.pem")
	if err != nil {
		t.Fatalf("the usual values: %v\n%s", err, out)
	}
	spec, _ := get(byKind["Deployment"][0], "spec", "template", "spec").(map[string]any)
	if str(spec, "nodeSelector", "disk") != "ssd" || len(list(spec, "tolerations")) != 1 || len(list(spec, "imagePullSecrets")) != 1 || len(list(spec, "volumes")) != 2 {
		t.Errorf("pod spec lacks the values given: %v", spec)
	}
	meta, _ := get(byKind["Deployment"][0], "spec", "template", "metadata").(map[string]any)
	if str(meta, "annotations", "a") != "b" || str(meta, "labels", "team") != "it" {
		t.Errorf("pod metadata lacks the values given: %v", meta)
	}
	if str(byKind["Ingress"][0], "metadata", "annotations", "x") != "y" {
		t.Errorf("ingress lacks its annotations")
	}
}

// TestHelmValuesSchema: values.schema.json holds the values to their
// shapes, and helm lint enforces it: a typo or a wrong type is refused.
func TestHelmValuesSchema(t *testing.T) {
	helm := helmBin(t)
	chart := filepath.Join("helm", "roomgate")
	for _, set := range []string{"replicaCount=two", "replicaCont=2", "ingress.enabled=yes", "goMemLimit=lots"} {
		out, err := exec.Command(helm, "lint", "--strict", chart, "--set", set).CombinedOutput()
		if err == nil {
			t.Errorf("helm lint --set %s: passed; want the schema to refuse it\n%s", set, out)
		}
	}
	if out, err := exec.Command(helm, "lint", "--strict", chart, "--set", "replicaCount=3,ingress.enabled=true,extraEnv[0].name=HTTPS_PROXY,extraEnv[0].value=http://proxy:3128").CombinedOutput(); err != nil {
		t.Errorf("helm lint of good values: %v\n%s", err, out)
	}
}

// TestHelmChartSQLite: persistence puts the SQLite store on a volume
// claim for one replica, replaced rather than rolled, with no disruption
// budget to block a drain; and the chart refuses the combinations that
// would lose the file or share it between hosts, saying what to do.
func TestHelmChartSQLite(t *testing.T) {
	helm := helmBin(t)
	chart := filepath.Join("helm", "roomgate")
	example, err := os.ReadFile("../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	withSQLite := filepath.Join(dir, "sqlite.yaml")
	os.WriteFile(withSQLite, append(example, "\nstore:\n  sqlite:\n    path: /var/lib/roomgate/roomgate.db\n"...), 0o600)
	elsewhere := filepath.Join(dir, "elsewhere.yaml")
	os.WriteFile(elsewhere, append(example, "\nstore:\n  sqlite:\n    path: /tmp/roomgate.db\n"...), 0o600)
	three := "secrets.OIDC_CLIENT_SECRET=x,secrets.SESSION_SECRET=y,secrets.DS_DEVELOPER_KEY=z"

	byKind, out, err := renderChart(t, helm, chart, "--set-file", "configFile="+withSQLite, "--set", three+",persistence.enabled=true,replicaCount=1")
	if err != nil {
		t.Fatalf("helm template with persistence: %v\n%s", err, out)
	}
	if len(byKind["PersistentVolumeClaim"]) != 1 || str(byKind["PersistentVolumeClaim"][0], "metadata", "name") != "meet-data" {
		t.Fatalf("want one PersistentVolumeClaim meet-data; got %v", byKind["PersistentVolumeClaim"])
	}
	if len(byKind["PodDisruptionBudget"]) != 0 {
		t.Error("a PodDisruptionBudget for a single replica blocks every node drain")
	}
	d := byKind["Deployment"][0]
	if get(d, "spec", "replicas") != 1 || str(d, "spec", "strategy", "type") != "Recreate" {
		t.Errorf("replicas %v, strategy %q; want 1 and Recreate", get(d, "spec", "replicas"), str(d, "spec", "strategy", "type"))
	}
	if get(d, "spec", "template", "spec", "securityContext", "fsGroup") != 65532 {
		t.Error("no fsGroup: the nonroot user cannot write the volume")
	}
	mounted := false
	for _, m := range list(d, "spec", "template", "spec", "containers", 0, "volumeMounts") {
		if str(m, "name") == "data" && str(m, "mountPath") == "/var/lib/roomgate" && get(m, "readOnly") != true {
			mounted = true
		}
	}
	if !mounted {
		t.Error("the volume is not mounted writable at /var/lib/roomgate")
	}
	byKind, out, err = renderChart(t, helm, chart, "--set-file", "configFile="+withSQLite, "--set", three+",persistence.enabled=true,replicaCount=1,persistence.existingClaim=mine")
	if err != nil || len(byKind["PersistentVolumeClaim"]) != 0 || !strings.Contains(out, "claimName: mine") {
		t.Errorf("with existingClaim: %v; want no claim made, and mine mounted\n%s", err, out)
	}

	for _, tt := range []struct{ name, config, set, want string }{
		{"two replicas", withSQLite, ",persistence.enabled=true", "set replicaCount: 1"},
		{"sqlite without persistence", withSQLite, ",replicaCount=1", "enable persistence"},
		{"persistence, file elsewhere", elsewhere, ",persistence.enabled=true,replicaCount=1", "/var/lib/roomgate/roomgate.db"},
		{"persistence, no sqlite", "../config.example.yaml", ",persistence.enabled=true,replicaCount=1", "/var/lib/roomgate/roomgate.db"},
	} {
		if _, out, err := renderChart(t, helm, chart, "--set-file", "configFile="+tt.config, "--set", three+tt.set); err == nil || !strings.Contains(out, tt.want) {
			t.Errorf("%s: %v\n%s\nwant it refused, saying %q", tt.name, err, out, tt.want)
		}
	}
}
