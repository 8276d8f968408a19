// Package demo runs `roomgate demo`: the real gateway, built by the same
// code as `roomgate serve` (config.Parse, then gateway.New), with the two
// outside services it needs replaced by stand-ins in the same process and on
// the same address:
//
//   - /demo/idp/: an OpenID provider (package demo/idp) whose sign-in page
//     lists sample people (People) instead of asking for a password;
//   - /demo/room/: Digital Samba's room entry (package dsroom), which checks
//     each room token as Digital Samba would and shows who entered, and,
//     from the gateway's audit line for the token's jti, which rule decided.
//
// The configuration is config.yaml, built in; its secrets are random for
// each run and never shown.
package demo

import (
	"context"
	"crypto/rand"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/roomgate/roomgate/config"
	"github.com/roomgate/roomgate/demo/dsroom"
	"github.com/roomgate/roomgate/demo/idp"
	"github.com/roomgate/roomgate/gateway"
	"github.com/roomgate/roomgate/internal/reload"
	"github.com/roomgate/roomgate/internal/store"
)

// ConfigFile is the name config problems are reported under.
const ConfigFile = "demo/config.yaml"

//go:embed config.yaml
var configYAML []byte

// Where the stand-ins are mounted. "demo" is one of gateway.ReservedPaths,
// so no room can take these paths.
const (
	idpPath        = "/demo/idp"
	partnerIDPPath = "/demo/partner-idp"
	roomPath       = "/demo/room"
	apiPath        = "/demo/api"
)

// shutdownGrace bounds how long requests in flight may take to finish once
// ctx ends.
// It is above net/http's 5 s: Shutdown counts a connection that has sent
// nothing yet as busy until it is 5 s old, and a loaded machine can leave one.
const shutdownGrace = 10 * time.Second

// Run serves the demo on listen (host:port; port 0 picks a free one) until
// ctx ends, then shuts down gracefully. It writes what to open, and why, to
// out; the gateway's logs, including one audit line per decision, go to
// logger (nil discards them).
//
// With file set, the demo serves that file instead of its own (a copy of
// demo/config.yaml to edit, with the same ${DEMO_...} variables), and
// reloads it when it changes, as serve does: a newcomer edits the rules
// and watches the decisions change. An invalid file is refused at start,
// and an invalid change keeps the last good rules serving.
func Run(ctx context.Context, listen, file string, logger *slog.Logger, out io.Writer) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	name, data := ConfigFile, configYAML
	if file != "" {
		var err error
		if data, err = config.ReadFile(file); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		name = file
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer ln.Close()
	base := baseURL(ln.Addr())

	// This run's private folder: the store's file, and the config the
	// commands in another terminal read. It goes when the demo stops.
	dir, err := os.MkdirTemp("", "roomgate-demo-")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer os.RemoveAll(dir)
	h, gw, cfg, vars, err := build(base, name, data, dir, logger)
	if err != nil {
		return err
	}
	defer gw.Store().Close()
	cliConfig, err := writeCLIConfig(dir, data, vars)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	srv := gateway.NewHTTPServer(h, logger)
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	go gw.Run(runCtx)
	if file != "" {
		go watcher(file, cfg, vars, gw, logger).Run(runCtx)
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	welcome(out, base, cliConfig, name, file != "")

	select {
	case err := <-errc:
		return fmt.Errorf("demo: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("demo: shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("demo: %w", err)
	}
	return nil
}

// watcher reloads the rules of file, read with the demo's variables, into
// gw when the file changes, as serve's watcher does.
func watcher(file string, cfg *config.Config, vars map[string]string, gw *gateway.Server, logger *slog.Logger) *reload.Watcher {
	return &reload.Watcher{
		Path:    file,
		Options: config.Options{LookupEnv: lookup(vars), Reserved: gateway.ReservedPaths()},
		Running: cfg.Settings(),
		Apply:   gw.SetRules,
		Logger:  logger,
	}
}

// build makes the configuration for a demo reached at base from data (the
// file called name) and wires the gateway and the stand-ins into one
// handler.
func build(base, name string, data []byte, dir string, logger *slog.Logger) (http.Handler, *gateway.Server, *config.Config, map[string]string, error) {
	cfg, vars, err := parseConfig(base, name, data, dir)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	var revocations *store.Revocations
	if path := cfg.Store.SQLite.Path; path != "" {
		st, err := store.OpenSQLite(path)
		if err != nil {
			return nil, nil, nil, nil, fmt.Errorf("demo: %w", err)
		}
		revocations = store.NewRevocations(st, nil, logger)
	}
	public := cfg.Server.PublicURL.String()
	// A built-in provider for each of the file's providers at one of the
	// demo's own addresses: ACME's staff, and the partner's.
	idps := map[string]http.Handler{}
	for i, o := range cfg.Providers {
		path, people := idpPath, People
		switch o.Issuer {
		case base + idpPath:
		case base + partnerIDPPath:
			path, people = partnerIDPPath, PartnerPeople
		default:
			continue // a provider outside the demo: the file's own
		}
		provider, err := idp.New(idp.Config{
			Issuer:       o.Issuer,
			ClientID:     o.ClientID,
			ClientSecret: o.ClientSecret,
			RedirectURI:  public + cfg.CallbackPath(i),
			// Where the gateway asks the provider to send the browser after
			// ending its session (gateway's signedOutPath); the provider
			// refuses any other address.
			PostLogoutRedirectURI: public + "/auth/signed-out",
			People:                people,
		})
		if err != nil {
			return nil, nil, nil, nil, fmt.Errorf("demo: %w", err)
		}
		idps[path] = provider
	}
	// The room page names the rule that let the person in, read from the
	// gateway's audit line for the token's jti.
	audit := newDecisions(logger.Handler())
	room := dsroom.New(cfg.DigitalSamba.TeamID, cfg.DigitalSamba.DeveloperKey, nil)
	room.Describe = audit.Describe
	room.Back = public + "/"
	gw, err := gateway.New(cfg, gateway.Deps{Logger: slog.New(audit), Revocations: revocations})
	if err != nil {
		return nil, nil, nil, nil, fmt.Errorf("demo: %w", err)
	}
	// The team's REST API: the stand-up's room exists, private; the all
	// hands' is public, which check -remote reports and sync mends; the
	// retro's does not exist yet, which sync creates.
	api := dsroom.NewAPI(cfg.DigitalSamba.TeamID, cfg.DigitalSamba.DeveloperKey, nil)
	api.AddRoom("daily-standup", "private", false, "moderator", "attendee")
	api.AddRoom("all-hands", "public", false, "moderator", "attendee")
	api.AddRoom("partner-sync", "private", false, "moderator", "attendee")
	mux := http.NewServeMux()
	mux.Handle(apiPath+"/", api)
	for path, provider := range idps {
		mux.Handle(path+"/", provider)
	}
	mux.Handle(roomPath+"/", http.StripPrefix(roomPath, room))
	mux.Handle("/", gw)
	return mux, gw, cfg, vars, nil
}

// parseConfig reads data, the file called name, for a demo reached at
// base whose private folder is dir, with fresh random secrets, exactly as
// `roomgate serve` reads a file. It returns the variables it filled in,
// too.
func parseConfig(base, name string, data []byte, dir string) (*config.Config, map[string]string, error) {
	vars := map[string]string{
		"DEMO_URL":   base,
		"DEMO_STORE": filepath.Join(dir, "roomgate.db"),
		// rand.Text is 26 characters of 5 bits each; two make 52 characters,
		// over config.MinSecretBytes.
		"DEMO_CLIENT_SECRET":  rand.Text(),
		"DEMO_PARTNER_SECRET": rand.Text(),
		"DEMO_SESSION_SECRET": rand.Text() + rand.Text(),
		"DEMO_DEVELOPER_KEY":  rand.Text() + rand.Text(),
	}
	cfg, err := config.Parse(name, data, config.Options{LookupEnv: lookup(vars), Reserved: gateway.ReservedPaths()})
	if err != nil {
		if name == ConfigFile {
			// The file is built in, so this is a bug, not a user's mistake.
			return nil, nil, fmt.Errorf("demo: the built-in configuration is invalid: %w", err)
		}
		return nil, nil, err
	}
	return cfg, vars, nil
}

// lookup finds the demo's variables.
func lookup(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

// writeCLIConfig writes this run's configuration, variables filled in, to
// a private file in dir for roomgate check -remote, sync, revoke and invite
// to read, and returns its path. It holds this run's secrets, so only the
// user may read it, and Run removes it when the demo stops.
func writeCLIConfig(dir string, data []byte, vars map[string]string) (string, error) {
	text := os.Expand(string(data), func(name string) string {
		if v, ok := vars[name]; ok {
			return v
		}
		return "${" + name + "}"
	})
	path := filepath.Join(dir, "config.yaml")
	return path, os.WriteFile(path, []byte(text), 0o600)
}

// baseURL is how a browser on this machine reaches addr: a wildcard
// address is reached through loopback.
func baseURL(addr net.Addr) string {
	host, port := "127.0.0.1", ""
	if tcp, ok := addr.(*net.TCPAddr); ok {
		port = fmt.Sprint(tcp.Port)
		if !tcp.IP.IsUnspecified() {
			host = tcp.IP.String()
		}
	}
	return "http://" + net.JoinHostPort(host, port)
}

// welcome tells the newcomer what to open and what they are looking at.
func welcome(out io.Writer, base, cliConfig, rules string, watched bool) {
	edit := ""
	if watched {
		edit = " Edit it:\nvalid changes to rooms and tests take effect at once, invalid ones are\nlogged and the last good rules keep serving."
	}
	fmt.Fprintf(out, `
roomgate demo is running. Open %[1]s/ in a browser.

This is the real gateway, the same code as "roomgate serve", with two
stand-ins inside this process instead of outside services:
  %[2]s   an OpenID provider: pick a sample person, no password
  %[3]s  Digital Samba's room entry: checks the token, shows who came in
              and which rule let them in

Try %[1]s/standup as ACME's Ada (moderator), Ben (attendee), Cleo (no
rule admits her) or Dan (kept out by an e-mail rule); sign out on the start
page to pick someone else. Or sign in with "Partner GmbH" as Pia: her
company has an eng-leads group too, and ACME's rules keep the two apart
(she attends the stand-up, moderates %[1]s/partner-sync, and all-hands
is ACME's only). %[1]s/retro has opening hours (Fridays 16:00 to
17:00, Berlin time): outside them it says when it opens. The rules are in
%[7]s; each decision is logged with the rule that made it.%[8]s

Ada may invite a guest to the stand-up ("Invite a guest" on the start
page); Eve opens the helpdesk console at %[1]s/admin, where a request id
from anyone's page shows what happened and why.

In another terminal, against this running demo:
  %[6]s check -remote -config %[5]s      the rules against the demo's Digital Samba team (%[4]s)
  %[6]s sync -config %[5]s               the plan that brings the team in line (-apply carries it out)
  %[6]s invite create -config %[5]s -room standup -name "Jane Roe"
  %[6]s revoke -config %[5]s -user ada   ends Ada's session here within a second

Secrets are random for this run, and its folder goes when it stops. Ctrl-C
stops the demo.

`, base, idpPath, roomPath, apiPath, cliConfig, selfCommand(os.Args[0]), rules, edit)
}

// selfCommand is how to run this program again, as the person started it:
// "go run ." for a binary go run built, the bare name for one found on
// the PATH, else the path it was started by.
func selfCommand(arg0 string) string {
	if strings.Contains(filepath.ToSlash(arg0), "/go-build") {
		return "go run ."
	}
	if !strings.ContainsRune(arg0, filepath.Separator) {
		return arg0
	}
	if found, err := exec.LookPath(filepath.Base(arg0)); err == nil {
		if a, b := filepath.Clean(found), filepath.Clean(arg0); a == b {
			return filepath.Base(arg0)
		}
	}
	return arg0
}
