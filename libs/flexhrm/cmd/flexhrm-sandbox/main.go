// Command flexhrm-sandbox runs the Flex HRM sandbox standalone, for demos and
// for running flexflow against something that behaves like Flex HRM.
//
//	flexhrm-sandbox -listen 127.0.0.1:8091 -seed my-seed.json
//
// It prints the API root (use it as FLEXHRM_API_ROOT); the credentials it
// accepts are in the seed (GET /_sandbox/credentials gives the base64 form).
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/flexflow/flexflow/libs/flexhrm/sandbox"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "flexhrm-sandbox:", err)
		os.Exit(1)
	}
}

func run() error {
	listen := flag.String("listen", "127.0.0.1:8091", "address to listen on")
	seedPath := flag.String("seed", "", "seed JSON file (default: the built-in seed)")
	verbose := flag.Bool("v", false, "log every request")
	flag.Parse()

	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	seed := sandbox.DefaultSeed()
	if *seedPath != "" {
		var err error
		if seed, err = sandbox.LoadSeed(*seedPath); err != nil {
			return err
		}
	}
	srv := sandbox.New(seed, sandbox.WithLogger(logger))
	if err := srv.Err(); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	url, err := srv.Start(*listen)
	if err != nil {
		return err
	}
	fmt.Println(url)
	logger.Info("flexhrm-sandbox: serving", "apiRoot", url, "knobs", url[:len(url)-len("/api")]+"/_sandbox/")
	<-ctx.Done()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	logger.Info("flexhrm-sandbox: shutting down")
	return srv.Shutdown(shutdownCtx)
}
