// Command ferretdb-local runs FerretDB v1 (a MongoDB wire-protocol server) on SQLite for the
// local stack and the test harness. It embeds FerretDB as a library because the upstream
// `go install .../cmd/ferretdb` build panics without release metadata (build/version/version.txt).
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on")
	dir := flag.String("sqlite-dir", "./data/ferretdb", "directory for the SQLite databases")
	// warn would log every client disconnect ("no such command: endSessions").
	level := flag.String("log-level", "error", "debug, info, warn or error")
	syncMode := flag.String("sqlite-synchronous", "normal", "SQLite synchronous pragma: normal (WAL; survives a process crash, may lose the last commits on power loss) or full")
	pgURL := flag.String("postgresql-url", "", "use the PostgreSQL backend at this URL instead of SQLite")
	flag.Parse()

	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-local: bad -log-level %q: %v\n", *level, err)
		os.Exit(2)
	}
	if *syncMode != "normal" && *syncMode != "full" {
		fmt.Fprintf(os.Stderr, "ferretdb-local: -sqlite-synchronous must be normal or full, got %q\n", *syncMode)
		os.Exit(2)
	}
	abs, err := filepath.Abs(*dir)
	if err == nil {
		err = os.MkdirAll(abs, 0o755)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-local: cannot use -sqlite-dir %q: %v\n", *dir, err)
		os.Exit(2)
	}

	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
	cfg := &ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/?_pragma=synchronous(" + *syncMode + ")",
	}
	if *pgURL != "" {
		cfg.Handler, cfg.SQLiteURL, cfg.PostgreSQLURL = "postgresql", "", *pgURL
	}
	f, err := ferretdb.New(cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-local: %v\n", err)
		os.Exit(1)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	fmt.Fprintf(os.Stderr, "ferretdb-local: listening on %s (sqlite in %s)\n", *listen, abs)
	if err := f.Run(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-local: %v\n", err)
		os.Exit(1)
	}
}
