package cmd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/roomgate/roomgate/config"
	"github.com/roomgate/roomgate/gateway"
	"github.com/roomgate/roomgate/internal/metrics"
	"github.com/roomgate/roomgate/internal/reload"
	"github.com/roomgate/roomgate/internal/store"
)

// shutdownGrace bounds how long in-flight requests may take to finish after
// SIGTERM; Kubernetes' default grace period is 30 s.
const shutdownGrace = 20 * time.Second

func serve(ctx context.Context, args []string, env Env) int {
	fs := newFlags("serve", env)
	path := fs.String("config", "config.yaml", "configuration `file`")
	level := fs.String("log-level", "info", "log level: debug, info, warn or error")
	if fs.Parse(args) != nil {
		return exitProblem
	}
	logger, err := newLogger(env, *level)
	if err != nil {
		fmt.Fprintln(env.Stderr, "roomgate:", err)
		return exitProblem
	}
	cfg, ok := loadConfig(*path, env)
	if !ok {
		return exitProblem
	}
	m := metrics.New()
	m.ConfigLoaded(time.Now())
	st, err := openStore(cfg)
	if err != nil {
		fmt.Fprintln(env.Stderr, "roomgate:", err)
		return exitProblem
	}
	defer st.Close()
	if cfg.Store.InProcess() {
		logger.Warn("the store is in this process: revocations, back-channel logouts and guest invitations are forgotten at a restart, and roomgate revoke and invite cannot reach this gateway; set store.sqlite.path (one host) or store.redis.url (several replicas)")
	}
	revocations := store.NewRevocations(st, nil, logger)
	revocations.OnState = m.StoreUp
	// A store other processes share is up once it has answered.
	m.StoreUp(!st.Shared())
	gw, err := gateway.New(cfg, gateway.Deps{Logger: logger, Metrics: m, Revocations: revocations})
	if err != nil {
		fmt.Fprintln(env.Stderr, "roomgate:", err)
		return exitProblem
	}
	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		fmt.Fprintln(env.Stderr, "roomgate: server.listen:", err, "(change server.listen in", *path+")")
		return exitProblem
	}
	background, stopBackground := context.WithCancel(ctx)
	defer stopBackground()
	mln, err := net.Listen("tcp", cfg.Server.MetricsListen)
	if err != nil {
		ln.Close()
		fmt.Fprintln(env.Stderr, "roomgate: server.metrics_listen:", err, "(change server.metrics_listen in", *path+")")
		return exitProblem
	}
	logger.Info("metrics served apart", "metrics_listen", mln.Addr().String())
	go serveMetrics(background, mln, m, logger)
	// SIGHUP reloads the rule set (systemctl reload); without Notify it
	// would end the process.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	watcher := &reload.Watcher{
		Path:             *path,
		Options:          configOptions(env),
		Running:          cfg.Settings(),
		Apply:            gw.SetRules,
		Logger:           logger,
		OnResult:         m.Reload,
		OnProblems:       gw.ReloadProblems,
		OnRestartPending: m.RestartPending,
		Signals:          hup,
	}
	m.BuildInfo(version())
	go watchReady(background, gw, m)
	go watcher.Run(background)

	logger.Info("roomgate serving", "version", version(), "listen", ln.Addr().String(), "public_url", cfg.Server.PublicURL.String(), "rooms", len(cfg.Rules.Rooms()))
	if err := serveUntilDone(ctx, ln, gw, logger); err != nil {
		logger.Error("serving failed", "err", err)
		return exitProblem
	}
	logger.Info("roomgate stopped")
	return exitOK
}

// serveUntilDone serves h on ln until ctx ends, then stops accepting and
// lets in-flight requests finish within shutdownGrace.
func serveUntilDone(ctx context.Context, ln net.Listener, gw *gateway.Server, logger *slog.Logger) error {
	srv := gateway.NewHTTPServer(gw, logger)
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	go gw.Run(runCtx)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down", "grace", shutdownGrace)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// serveMetrics serves /metrics on ln, apart from the gateway, until ctx
// ends. A scrape cut short by shutdown costs nothing, so it is not waited for.
func serveMetrics(ctx context.Context, ln net.Listener, m *metrics.Metrics, logger *slog.Logger) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	srv := gateway.NewHTTPServer(mux, logger)
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		logger.Error("metrics server failed", "err", err)
	}
}

// newLogger writes JSON lines to stderr with slog's own handler: one
// write(2) a line, made before the request it tells of is answered, so a
// crash loses no audit line of a token a browser got.
func newLogger(env Env, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("-log-level: want debug, info, warn or error, found %q", level)
	}
	return slog.New(slog.NewJSONHandler(env.Stderr, &slog.HandlerOptions{Level: l, ReplaceAttr: readableDurations})), nil
}

// readableDurations writes durations as people read them ("20s"), not as
// slog's nanoseconds.
func readableDurations(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		return slog.String(a.Key, a.Value.Duration().String())
	}
	return a
}

// openStore opens the store cfg names: a SQLite file, Redis, or else one
// in this process.
func openStore(cfg *config.Config) (store.Store, error) {
	switch {
	case cfg.Store.SQLite.Path != "":
		return store.OpenSQLite(cfg.Store.SQLite.Path)
	case cfg.Store.Redis.URL != "":
		return store.OpenRedis(cfg.Store.Redis.URL)
	}
	return store.NewMemory(), nil
}

// watchReady keeps roomgate_ready in step with /readyz.
func watchReady(ctx context.Context, gw *gateway.Server, m *metrics.Metrics) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		m.Ready(gw.Ready())
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
