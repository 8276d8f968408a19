package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestTerminalEscapesControls: what reaches a terminal cannot drive it.
func TestTerminalEscapesControls(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"valid\n":                          "valid\n",
		"tab\there":                        "tab\there",
		"Jürgen, Zoë, 会議室":                 "Jürgen, Zoë, 会議室",
		"\x1b]52;c;ZXZpbA==\x07":           `\x1b]52;c;ZXZpbA==\x07`,
		"problem\rvalid":                   `problem\x0dvalid`,
		"\x1b[1A\x1b[2Kvalid":              `\x1b[1A\x1b[2Kvalid`,
		"\u009b31m":                        `\u009b31m`,
		"admin\u202egnp.exe":               `admin\u202egnp.exe`,
		"bad \xff byte":                    `bad \xff byte`,
		"del\x7f":                          `del\x7f`,
		"nul\x00":                          `nul\x00`,
		"an honest line with: colons, %s!": "an honest line with: colons, %s!",
	} {
		var b bytes.Buffer
		fmt.Fprint(terminal{&b}, in)
		if b.String() != want {
			t.Errorf("%q: wrote %q; want %q", in, b.String(), want)
		}
	}
}

// TestHostileAPIReachesNoTerminal: role names and error messages from a
// hostile Digital Samba API arrive at the admin's terminal escaped.
func TestHostileAPIReachesNoTerminal(t *testing.T) {
	t.Parallel()
	const osc52 = "\x1b]52;c;cm0gLXJmIH4=\x07"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnprocessableEntity)
		json.NewEncoder(w).Encode(map[string]string{"message": "denied" + osc52 + "\r\x1b[2Kvalid"})
	}))
	defer srv.Close()
	file := strings.Replace(testConfig, `developer_key: "${DS_DEVELOPER_KEY}"`, "developer_key: key\n  api_url: \""+srv.URL+"/api/v1\"", 1)
	path := writeConfig(t, file)
	for _, args := range [][]string{{"check", "-config", path, "-remote"}, {"sync", "-config", path}} {
		var out, errb bytes.Buffer
		Run(context.Background(), args, Env{Stdout: &out, Stderr: &errb, LookupEnv: lookup})
		all := out.String() + errb.String()
		if strings.ContainsAny(all, "\x1b\r\x07") {
			t.Errorf("%v wrote control characters to the terminal:\n%q", args, all)
		}
		if !strings.Contains(all, "denied") {
			t.Errorf("%v did not say what the API said:\n%q", args, all)
		}
	}
}
