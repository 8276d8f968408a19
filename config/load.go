package config

import (
	"fmt"
	"maps"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
	"golang.org/x/text/language"

	"github.com/roomgate/roomgate/mapping"
	"github.com/roomgate/roomgate/yamlnode"
)

// Options are what Load needs from outside the file.
type Options struct {
	// LookupEnv resolves ${VAR}; nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// Reserved are the first path segments the gateway owns; no room may
	// use them.
	Reserved []string
	// RulesOnly reads the file for what deciding needs, and no more: the
	// rooms, the tests, oidc.claims and digitalsamba.roles. Problems
	// elsewhere (a secret not in the environment, say) are left out, so
	// explain and diff run where only the rules are. The Config is then
	// not one to serve with.
	RulesOnly bool
	// Now is the clock for the one thing that depends on the moment: the
	// warning that a rule's until has passed. Nil means time.Now.
	Now func() time.Time
	// Offline reads the file without the environment: ${VAR}s are not
	// looked up, and their values are not checked (check -offline, for CI
	// without secrets). Config.Variables lists their names. The Config is
	// then not one to serve with.
	Offline bool
}

// rulesOnly reports whether a problem at path matters for deciding.
func rulesOnly(path string) bool {
	for _, p := range []string{"rooms", "tests", "oidc.claims", "digitalsamba.roles"} {
		if path == p || strings.HasPrefix(path, p+".") || strings.HasPrefix(path, p+"[") {
			return true
		}
	}
	return path == "" || strings.HasPrefix(path, "tests[")
}

// Load reads and validates the file at path. Problems in the file come back
// as a mapping.Problems error, all of them at once, in file order.
func Load(path string, opts Options) (*Config, error) {
	data, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data, opts)
}

// Parse reads and validates data as if it were the file named file.
func Parse(file string, data []byte, opts Options) (*Config, error) {
	if opts.LookupEnv == nil {
		opts.LookupEnv = os.LookupEnv
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, mapping.Problems{syntaxProblem(file, err)}
	}
	if p, ok := aliasBomb(file, &doc); !ok {
		return nil, mapping.Problems{p}
	}
	return read(file, &doc, opts)
}

// read reads the document doc.
func read(file string, doc *yaml.Node, opts Options) (*Config, error) {
	var problems mapping.Problems
	r := &yamlnode.Reader{Report: func(line int, path, msg string) {
		problems = append(problems, mapping.Problem{File: file, Line: line, Path: path, Msg: msg})
	}}
	var root *yaml.Node
	if doc != nil && len(doc.Content) > 0 {
		root = doc.Content[0]
	}
	unknown := map[*yaml.Node]bool{}
	r.Unknown = func(n *yaml.Node) bool { return unknown[n] }
	vars := expandEnv(r, root, opts.LookupEnv, opts.Offline, unknown)

	top := r.Fields(root, "", keysOf[Config]()...)
	cfg := &Config{File: file, Variables: vars}
	cfg.Server = readServer(r, top["server"])
	cfg.Providers = readProviders(r, top)
	if len(cfg.Providers) > 0 {
		cfg.OIDC = cfg.Providers[0]
	}
	cfg.Session = readSession(r, top["session"])
	cfg.DigitalSamba = readDigitalSamba(r, top["digitalsamba"])
	cfg.DigitalSamba.RolesAt.File = file
	cfg.Store = readStore(r, top["store"])
	cfg.Admin = readAdmin(r, top["admin"])
	cfg.Decisions = readDecisions(r, top["decisions"])
	checkClearText(r, cfg, top, func(line int, path, msg string) {
		cfg.Warnings = append(cfg.Warnings, mapping.Problem{File: file, Line: line, Path: path, Msg: msg})
	})

	if opts.Now == nil {
		opts.Now = time.Now
	}
	ropts := mapping.Options{
		Roles:    cfg.DigitalSamba.Roles,
		Reserved: opts.Reserved,
		Now:      opts.Now,
		Admin:    top["admin"],
	}
	for _, o := range cfg.Providers {
		ropts.Providers = append(ropts.Providers, mapping.Provider{ID: o.ID, EmailDomains: o.EmailDomains})
	}
	rules, err := mapping.Parse(file, top["rooms"], ropts)
	if err != nil {
		ps := mapping.AsProblems(err)
		if ps == nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		problems = append(problems, ps...)
	}
	if opts.RulesOnly {
		problems = slices.DeleteFunc(problems, func(p mapping.Problem) bool { return !rulesOnly(p.Path) })
	}
	cfg.Rules = rules
	if rules != nil {
		tests, err := mapping.ParseTests(file, top["tests"], rules, mapping.Options{Roles: cfg.DigitalSamba.Roles})
		if err != nil {
			problems = append(problems, mapping.AsProblems(err)...)
		}
		cfg.Tests = tests
		problems = append(problems, rules.RunTests(tests, cfg.Person)...)
		cfg.Warnings = append(cfg.Warnings, rules.Warnings()...)
		if cfg.Store.InProcess() {
			for i, room := range rules.Rooms() {
				if room.Guests != nil {
					cfg.Warnings = append(cfg.Warnings, mapping.Problem{File: file, Line: room.Guests.Pos.Line, Path: fmt.Sprintf("rooms[%d].guests", i),
						Msg: "the store is in the process: invitations are lost at a restart, and roomgate invite cannot reach them; set store.sqlite.path (one host) or store.redis.url"})
				}
			}
		}
	}
	if len(problems) > 0 {
		problems.Sort()
		return nil, problems
	}
	return cfg, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxProblem turns the YAML parser's "yaml: line 3: ..." into a problem
// at file:3.
func syntaxProblem(file string, err error) mapping.Problem {
	p := mapping.Problem{File: file, Msg: "not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		p.Line, _ = strconv.Atoi(m[1])
		p.Msg = "not valid YAML: " + m[2]
	}
	return p
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expandEnv replaces ${VAR} in every scalar value, and returns the names
// of the variables, sorted. It works on values, not on the file's text, so
// a variable's content can never change the file's structure. A missing
// variable is one problem: its node goes into unknown, whose values no
// other check judges. An empty one is allowed (and caught by the field's
// own checks). Offline, no variable is looked up and every node with one
// is unknown.
func expandEnv(r *yamlnode.Reader, n *yaml.Node, lookup func(string) (string, bool), offline bool, unknown map[*yaml.Node]bool) []string {
	w := envWalk{r: r, lookup: lookup, offline: offline, unknown: unknown, names: map[string]bool{}}
	w.walk(n)
	return slices.Sorted(maps.Keys(w.names))
}

// envWalk is expandEnv under way.
type envWalk struct {
	r       *yamlnode.Reader
	lookup  func(string) (string, bool)
	offline bool
	unknown map[*yaml.Node]bool
	names   map[string]bool
	// at is where the walk is in the file, made into a field path only
	// for a problem: a rule file of 10,000 rooms has a million nodes.
	at []envStep
}

// envStep is a mapping's key, when index is -1, or a sequence's index.
type envStep struct {
	key   string
	index int
}

func (w *envWalk) walk(n *yaml.Node) {
	if n == nil {
		return
	}
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			w.at = append(w.at, envStep{key: n.Content[i].Value, index: -1})
			w.walk(n.Content[i+1])
			w.at = w.at[:len(w.at)-1]
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			w.at = append(w.at, envStep{index: i})
			w.walk(c)
			w.at = w.at[:len(w.at)-1]
		}
	case yaml.ScalarNode:
		if !strings.Contains(n.Value, "${") {
			return
		}
		path := w.path()
		unknown := w.offline
		n.Value = envRef.ReplaceAllStringFunc(n.Value, func(ref string) string {
			name := ref[2 : len(ref)-1]
			w.names[name] = true
			if w.offline {
				return ref
			}
			v, ok := w.lookup(name)
			if !ok {
				w.r.Problemf(n, path, "environment variable %s is not set", name)
				unknown = true
				return ref
			}
			return v
		})
		if unknown {
			w.unknown[n] = true
		}
		n.Tag = "!!str"
		n.Style = 0
	}
}

// path is the field path of where the walk is.
func (w *envWalk) path() string {
	path := ""
	for _, step := range w.at {
		if step.index < 0 {
			path = yamlnode.Join(path, step.key)
		} else {
			path = yamlnode.Index(path, step.index)
		}
	}
	return path
}

func readServer(r *yamlnode.Reader, n *yaml.Node) Server {
	const p = "server"
	f := r.Fields(n, p, keysOf[Server]()...)
	s := Server{
		Listen:        r.String(f["listen"], p+".listen"),
		Contact:       r.String(f["contact"], p+".contact"),
		MetricsListen: r.String(f["metrics_listen"], p+".metrics_listen"),
	}
	if s.Listen == "" {
		s.Listen = ":8080"
	}
	if _, set := f["metrics_listen"]; !set {
		s.MetricsListen = DefaultMetricsListen
	} else if s.MetricsListen == "" {
		r.Problemf(f["metrics_listen"], p+".metrics_listen", "empty; metrics are never served on the public listener: give an address such as :9090, or remove the key for %s", DefaultMetricsListen)
	}
	if s.Contact == "" {
		s.Contact = "your IT service desk"
	}
	// A path mounts roomgate under it: https://intranet.example.com/meet.
	s.PublicURL = readBaseURL(r, n, f["public_url"], p+".public_url", true)
	s.Languages = r.Strings(f["languages"], p+".languages")
	for i, l := range s.Languages {
		if _, err := language.Parse(l); err != nil {
			r.Problemf(f["languages"].Content[i], yamlnode.Index(p+".languages", i), "%q is not a language tag such as en or de", l)
		}
	}
	bf := r.Fields(f["brand"], p+".brand", keysOf[Brand]()...)
	s.Brand = Brand{Name: r.String(bf["name"], p+".brand.name"), Logo: r.String(bf["logo"], p+".brand.logo")}
	if s.Brand.Name == "" {
		s.Brand.Name = "roomgate"
	}
	if len(s.Brand.Name) > 64 {
		r.Problemf(bf["name"], p+".brand.name", "longer than 64 bytes; a header has room for a name, not a sentence")
	}
	if l := s.Brand.Logo; l != "" {
		u, err := url.Parse(l)
		// Browsers read a backslash as a slash (/\host is //host) and drop
		// tabs and newlines from URLs, so neither may appear at all.
		sameOrigin := err == nil && !strings.ContainsFunc(l, func(c rune) bool { return c == '\\' || c <= ' ' || c == 0x7f }) &&
			(u.Scheme == "" && u.Host == "" && strings.HasPrefix(l, "/") && !strings.HasPrefix(l, "//") ||
				s.PublicURL != nil && u.Scheme == s.PublicURL.Scheme && u.Host == s.PublicURL.Host)
		if !sameOrigin {
			r.Problemf(bf["logo"], p+".brand.logo", "want an image on public_url's own origin, such as /assets/logo.svg (the pages' Content-Security-Policy loads no other), found %q", l)
		}
	}
	for i, v := range r.Strings(f["trusted_proxies"], p+".trusted_proxies") {
		prefix, err := parsePrefix(v)
		if err != nil {
			r.Problemf(f["trusted_proxies"].Content[i], yamlnode.Index(p+".trusted_proxies", i), "want an IP address or CIDR range such as 10.0.0.0/8, found %q", v)
			continue
		}
		s.TrustedProxies = append(s.TrustedProxies, prefix)
	}
	return s
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// readBaseURL reads an absolute http(s) URL with a host and no query or
// fragment, and no path unless allowPath.
func readBaseURL(r *yamlnode.Reader, parent, n *yaml.Node, path string, allowPath bool) *url.URL {
	s := r.String(n, path)
	if s == "" {
		if n == nil {
			r.Problemf(parent, path, "missing; want an absolute URL such as https://meet.example.com")
		} else {
			r.Problemf(n, path, "empty; want an absolute URL such as https://meet.example.com")
		}
		return nil
	}
	u, err := url.Parse(strings.TrimSuffix(s, "/"))
	switch {
	case err != nil, u.Scheme != "http" && u.Scheme != "https", u.Host == "", u.User != nil:
		r.Problemf(n, path, "want an absolute http or https URL such as https://meet.example.com, found %q", s)
		return nil
	case u.Path != "" && !allowPath:
		r.Problemf(n, path, "want a URL without a path, found %q", s)
		return nil
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		r.Problemf(n, path, "want a URL without a query or fragment, found %q", s)
		return nil
	}
	return u
}

func readOIDC(r *yamlnode.Reader, n *yaml.Node, p string) OIDC {
	f := r.Fields(n, p, keysOf[OIDC]()...)
	o := OIDC{
		ID:           DefaultProviderID,
		EmailDomains: r.Strings(f["email_domains"], p+".email_domains"),
		Issuer:       required(r, n, f, p, "issuer"),
		ClientID:     required(r, n, f, p, "client_id"),
		ClientSecret: required(r, n, f, p, "client_secret"),
		Scopes:       r.Strings(f["scopes"], p+".scopes"),
	}
	if o.Issuer != "" {
		if u, err := url.Parse(o.Issuer); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			r.Problemf(f["issuer"], p+".issuer", "want the provider's issuer URL such as https://login.example.com/realms/acme, found %q", o.Issuer)
		}
	}
	if o.Scopes == nil {
		o.Scopes = []string{"openid", "profile", "email", "groups"}
	}
	if !contains(o.Scopes, "openid") {
		r.Problemf(f["scopes"], p+".scopes", `must include "openid"`)
	}
	cp := p + ".claims"
	cf := r.Fields(f["claims"], cp, keysOf[Claims]()...)
	o.Claims = Claims{
		Groups:     claimPath(r, cf, cp, "groups", "groups"),
		Name:       claimPath(r, cf, cp, "name", "name"),
		UserID:     claimPath(r, cf, cp, "user_id", "sub"),
		Avatar:     claimPath(r, cf, cp, "avatar", "picture"),
		Email:      claimPath(r, cf, cp, "email", "email"),
		GroupNames: oneOf(r, cf["group_names"], cp+".group_names", GroupNamesFull, GroupNamesLast),
	}
	o.RequireVerifiedEmail = r.Bool(f["require_verified_email"], p+".require_verified_email")
	o.InsecureHTTP = r.Bool(f["insecure_http"], p+".insecure_http")
	o.Timeout = r.Duration(f["timeout"], p+".timeout", 5*time.Second)
	if o.Timeout < time.Second || o.Timeout > time.Minute {
		r.Problemf(f["timeout"], p+".timeout", "want between 1s and 1m, found %s", o.Timeout)
	}
	o.Entra = readEntra(r, f["entra"], p+".entra")
	if n, ok := f["id"]; ok {
		o.ID = r.String(n, p+".id")
		if !mapping.ValidProviderID(o.ID) {
			r.Problemf(n, p+".id", "want 1 to 32 lower-case letters, digits or '-', such as partner, found %q", o.ID)
		}
	}
	o.Title = o.ID
	if n, ok := f["title"]; ok {
		if o.Title = r.String(n, p+".title"); strings.TrimSpace(o.Title) == "" {
			r.Problemf(n, p+".title", "empty; leave title out to show the id")
		}
	}
	for i, d := range o.EmailDomains {
		if !validDomain(d) {
			r.Problemf(f["email_domains"], yamlnode.Index(p+".email_domains", i), "want a domain such as example.com, found %q", d)
		}
	}
	return o
}

func readEntra(r *yamlnode.Reader, n *yaml.Node, p string) Entra {
	f := r.Fields(n, p, keysOf[Entra]()...)
	e := Entra{Overage: oneOf(r, f["overage"], p+".overage", OverageRefuse, OverageGraph)}
	if g, ok := f["graph_url"]; ok {
		e.GraphURL = readBaseURL(r, n, g, p+".graph_url", false)
	} else {
		e.GraphURL = &url.URL{Scheme: "https", Host: "graph.microsoft.com"}
	}
	return e
}

// oneOf reads a field that takes one of a few words; the first is the
// default when the field is absent.
func oneOf(r *yamlnode.Reader, n *yaml.Node, path string, words ...string) string {
	if n == nil {
		return words[0]
	}
	s := r.String(n, path)
	if resolveKind(n) != yaml.ScalarNode {
		return words[0] // String has said what it found instead
	}
	if !contains(words, s) {
		r.Problemf(n, path, "want one of %s, found %q", strings.Join(words, ", "), s)
		return words[0]
	}
	return s
}

func claimPath(r *yamlnode.Reader, f map[string]*yaml.Node, p, key, def string) string {
	n, ok := f[key]
	if !ok {
		return def
	}
	s := r.String(n, yamlnode.Join(p, key))
	if s == "" {
		r.Problemf(n, yamlnode.Join(p, key), "empty; remove the key to use the default %q", def)
	}
	return s
}

func readSession(r *yamlnode.Reader, n *yaml.Node) Session {
	const p = "session"
	f := r.Fields(n, p, keysOf[Session]()...)
	s := Session{
		Lifetime: r.Duration(f["lifetime"], p+".lifetime", 8*time.Hour),
		Recheck:  r.Duration(f["recheck"], p+".recheck", 10*time.Minute),
	}
	sn := f["secret"]
	switch {
	case sn == nil:
		r.Problemf(n, p+".secret", "missing; want a random secret of at least %d bytes, e.g. from ${SESSION_SECRET}", MinSecretBytes)
	case sn.Kind == yaml.SequenceNode:
		s.Secrets = r.Strings(sn, p+".secret")
		if len(s.Secrets) == 0 {
			r.Problemf(sn, p+".secret", "empty list; want at least one secret")
		}
	default:
		s.Secrets = []string{r.String(sn, p+".secret")}
	}
	for i, secret := range s.Secrets {
		if len(secret) < MinSecretBytes {
			at, path := sn, p+".secret"
			if sn.Kind == yaml.SequenceNode {
				at, path = sn.Content[i], yamlnode.Index(path, i)
			}
			// Never say how long it is: that tells an attacker something.
			r.Problemf(at, path, "too short; want at least %d bytes (e.g. openssl rand -base64 48)", MinSecretBytes)
		}
	}
	if s.Lifetime < time.Minute {
		r.Problemf(f["lifetime"], p+".lifetime", "want at least 1m, found %s", s.Lifetime)
	}
	if s.Recheck <= 0 || s.Recheck > s.Lifetime {
		r.Problemf(f["recheck"], p+".recheck", "want a duration above 0 and at most lifetime (%s), found %s", s.Lifetime, s.Recheck)
	}
	return s
}

func readDigitalSamba(r *yamlnode.Reader, n *yaml.Node) DigitalSamba {
	const p = "digitalsamba"
	f := r.Fields(n, p, keysOf[DigitalSamba]()...)
	d := DigitalSamba{
		TeamID:       required(r, n, f, p, "team_id"),
		DeveloperKey: required(r, n, f, p, "developer_key"),
		TokenTTL:     r.Duration(f["token_ttl"], p+".token_ttl", 2*time.Minute),
		Roles:        r.Strings(f["roles"], p+".roles"),
		InsecureHTTP: r.Bool(f["insecure_http"], p+".insecure_http"),
	}
	// A path is allowed: some custom domains serve rooms below one, and the
	// demo serves its stand-in under /demo/room.
	d.URL = readBaseURL(r, n, f["url"], p+".url", true)
	if d.TokenTTL < 10*time.Second || d.TokenTTL > time.Hour {
		r.Problemf(f["token_ttl"], p+".token_ttl", "want between 10s and 1h (the token only has to survive the redirect), found %s", d.TokenTTL)
	}
	if _, ok := f["roles"]; !ok {
		d.Roles = []string{"moderator", "speaker", "attendee"}
	}
	d.RolesAt = mapping.Pos{Line: lineOf(f["roles"], n)}
	if a, ok := f["api_url"]; ok {
		d.APIURL = readBaseURL(r, n, a, p+".api_url", true)
	} else {
		d.APIURL, _ = url.Parse("https://api.digitalsamba.com/api/v1")
	}
	if len(d.Roles) == 0 {
		r.Problemf(f["roles"], p+".roles", "empty; list the team's roles, e.g. [moderator, speaker, attendee]")
	}
	d.RoleTitles = readRoleTitles(r, f["role_titles"], p+".role_titles", d.Roles)
	return d
}

// readRoleTitles reads role_titles: for each of roles, a mapping of
// language tags to the title pages show.
func readRoleTitles(r *yamlnode.Reader, n *yaml.Node, p string, roles []string) map[string]map[string]string {
	if n == nil {
		return nil
	}
	out := map[string]map[string]string{}
	for role, ln := range r.Fields(n, p, roles...) {
		rp := yamlnode.Join(p, role)
		titles := map[string]string{}
		var langs []string
		if m := yamlnode.Resolve(ln); m != nil && m.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(m.Content); i += 2 {
				langs = append(langs, m.Content[i].Value)
			}
		}
		for lang, tn := range r.Fields(ln, rp, langs...) {
			tp := yamlnode.Join(rp, lang)
			if _, err := language.Parse(lang); err != nil {
				r.Problemf(tn, tp, "%q is not a language tag such as en or de", lang)
				continue
			}
			t := r.String(tn, tp)
			switch {
			case strings.TrimSpace(t) == "":
				r.Problemf(tn, tp, "empty; leave the language out to show the role's own name")
			case len(t) > 64:
				r.Problemf(tn, tp, "longer than 64 bytes; a role's title is a word or two")
			default:
				titles[lang] = t
			}
		}
		out[role] = titles
	}
	return out
}

// required reads a text field that must be present and not empty.
func required(r *yamlnode.Reader, parent *yaml.Node, f map[string]*yaml.Node, p, key string) string {
	path := yamlnode.Join(p, key)
	n, ok := f[key]
	if !ok {
		r.Problemf(parent, path, "missing")
		return ""
	}
	s := r.String(n, path)
	if strings.TrimSpace(s) == "" {
		r.Problemf(n, path, "empty")
	}
	return s
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// resolveKind is the kind of n, or of what n aliases.
func resolveKind(n *yaml.Node) yaml.Kind {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		return n.Alias.Kind
	}
	return n.Kind
}

// checkClearText refuses the http:// URLs that would carry secrets in clear
// across a network: digitalsamba.url (room tokens), oidc.issuer (codes,
// tokens and the client secret) and oidc.entra.graph_url (bearer tokens),
// unless the host is loopback or the section says insecure_http: true. An
// http:// public_url beyond loopback is a warning: the session cookie then
// travels in clear, though TLS may end at a proxy in front.
func checkClearText(r *yamlnode.Reader, cfg *Config, top map[string]*yaml.Node, warn func(line int, path, msg string)) {
	node := func(section string, keys ...string) *yaml.Node {
		n := top[section]
		for _, k := range keys {
			if n = field(n, k); n == nil {
				return top[section]
			}
		}
		return n
	}
	refuse := func(u *url.URL, n *yaml.Node, path, carries, section string) {
		if u == nil || u.Scheme != "http" || isLoopback(u.Hostname()) {
			return
		}
		r.Problemf(n, path, "http:// sends %s in clear to %s; use https, or set %s.insecure_http: true for a lab", carries, u.Host, section)
	}
	if !cfg.DigitalSamba.InsecureHTTP {
		refuse(cfg.DigitalSamba.URL, node("digitalsamba", "url"), "digitalsamba.url", "every room token", "digitalsamba")
	}
	for i, o := range cfg.Providers {
		if o.InsecureHTTP {
			continue
		}
		section, at := "oidc", top["oidc"]
		if top["providers"] != nil {
			section, at = yamlnode.Index("providers", i), itemOf(top["providers"], i)
		}
		nodeOf := func(keys ...string) *yaml.Node {
			n := at
			for _, k := range keys {
				if n = field(n, k); n == nil {
					return at
				}
			}
			return n
		}
		if u, err := url.Parse(o.Issuer); err == nil && o.Issuer != "" {
			refuse(u, nodeOf("issuer"), section+".issuer", "codes, tokens and the client secret", section)
		}
		refuse(o.Entra.GraphURL, nodeOf("entra", "graph_url"), section+".entra.graph_url", "bearer tokens", section)
	}
	if u := cfg.Server.PublicURL; u != nil && u.Scheme == "http" && !isLoopback(u.Hostname()) {
		n := node("server", "public_url")
		warn(n.Line, "server.public_url", fmt.Sprintf("http:// on %s: session cookies travel in clear and are not Secure; use https unless a proxy in front ends TLS for this exact URL", u.Host))
	}
	// Every peer in a trusted range may say which address it speaks for,
	// in the throttles and the audit line alike.
	proxies := node("server", "trusted_proxies")
	for i, p := range cfg.Server.TrustedProxies {
		if p.Bits() <= 8 || p.Addr().Is6() && p.Bits() <= 32 {
			line := proxies.Line
			if i < len(proxies.Content) {
				line = proxies.Content[i].Line
			}
			warn(line, yamlnode.Index("server.trusted_proxies", i), fmt.Sprintf("%s is a whole network: any client in it can choose the address roomgate logs and throttles it by; name only the ingress controller or load balancer", p))
		}
	}
}

// field returns the value of key in the mapping n, or nil.
func field(n *yaml.Node, key string) *yaml.Node {
	n = yamlnode.Resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// lineOf is n's line, or else parent's.
func lineOf(n, parent *yaml.Node) int {
	if n != nil {
		return n.Line
	}
	if parent != nil {
		return parent.Line
	}
	return 0
}

// readAdmin reads admin.reauth; package mapping reads the rest of the
// section, and reports its unknown keys.
func readAdmin(r *yamlnode.Reader, n *yaml.Node) Admin {
	a := Admin{Reauth: DefaultReauth}
	if reauth := field(n, "reauth"); reauth != nil {
		a.Reauth = r.Duration(reauth, "admin.reauth", DefaultReauth)
		if a.Reauth <= 0 || a.Reauth > 24*time.Hour {
			r.Problemf(reauth, "admin.reauth", "want a duration above 0 and at most 24h, such as 15m, found %q", reauth.Value)
		}
	}
	return a
}

func readDecisions(r *yamlnode.Reader, n *yaml.Node) Decisions {
	const p = "decisions"
	f := r.Fields(n, p, keysOf[Decisions]()...)
	d := Decisions{Keep: DefaultKeep}
	k := yamlnode.Resolve(f["keep"])
	if yamlnode.IsNull(k) {
		return d
	}
	// Days, as people keep records: 7d; or any Go duration, 0 for none.
	if days, ok := strings.CutSuffix(k.Value, "d"); ok && k.Kind == yaml.ScalarNode {
		n, err := strconv.Atoi(days)
		d.Keep = time.Duration(n) * 24 * time.Hour
		if err != nil {
			d.Keep = -1
		}
	} else {
		d.Keep = r.Duration(k, p+".keep", DefaultKeep)
	}
	if d.Keep < 0 || d.Keep > 400*24*time.Hour {
		r.Problemf(k, p+".keep", "want 0 (keep none) to 400d, such as 7d or 36h, found %q", k.Value)
		d.Keep = DefaultKeep
	}
	return d
}

func readStore(r *yamlnode.Reader, n *yaml.Node) Store {
	const p = "store"
	f := r.Fields(n, p, keysOf[Store]()...)
	rf := r.Fields(f["redis"], p+".redis", keysOf[Redis]()...)
	sf := r.Fields(f["sqlite"], p+".sqlite", keysOf[SQLite]()...)
	st := Store{Redis: Redis{URL: r.String(rf["url"], p+".redis.url")}, SQLite: SQLite{Path: r.String(sf["path"], p+".sqlite.path")}}
	switch {
	case f["sqlite"] != nil && f["redis"] != nil:
		r.Problemf(f["sqlite"], p, "choose one of sqlite (one host) and redis (several replicas)")
	case f["sqlite"] != nil && st.SQLite.Path == "":
		r.Problemf(f["sqlite"], p+".sqlite.path", "required: the database file, in a folder that exists (remove store to keep revocations in the process)")
	}
	if u := st.Redis.URL; u != "" {
		parsed, err := url.Parse(u)
		switch {
		case err != nil || parsed.Host == "":
			// Never repeat the URL: it may hold a password.
			r.Problemf(rf["url"], p+".redis.url", "want redis://[:password@]host:port/db (or rediss:// for TLS)")
		case parsed.Scheme != "redis" && parsed.Scheme != "rediss":
			r.Problemf(rf["url"], p+".redis.url", "want a redis:// or rediss:// URL, found scheme %q", parsed.Scheme)
		}
	} else if rf["url"] != nil {
		r.Problemf(rf["url"], p+".redis.url", "empty; remove store to keep revocations in the process")
	}
	return st
}
