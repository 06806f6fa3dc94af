// Command oneflow-sandbox runs the Oneflow sandbox standalone: the Public API
// under /v1, the app actions and test knobs under /_sandbox/, and webhooks to
// -webhook-url signed with -sign-key (or ONEFLOW_SIGN_KEY).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/flexflow/flexflow/libs/oneflow/sandbox"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "oneflow-sandbox:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends, then shuts down gracefully.
func run(ctx context.Context, args []string, stdout io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("oneflow-sandbox", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:8092", "listen address")
	seedPath := fs.String("seed", "", "seed JSON file (default: the built-in seed)")
	webhookURL := fs.String("webhook-url", "", "where webhooks are sent (empty: recorded, not sent)")
	signKey := fs.String("sign-key", "", "webhook sign key (default: $ONEFLOW_SIGN_KEY, else the seed's)")
	token := fs.String("token", "", "API token to accept (default: $ONEFLOW_API_TOKEN, else the seed's)")
	userEmail := fs.String("user-email", "", "API user email (default: $ONEFLOW_USER_EMAIL, else the seed's)")
	timeScale := fs.Float64("time-scale", 1, "multiplier for the webhook resend schedule (0.001: 1 s becomes 1 ms)")
	duplicates := fs.Int("duplicates", 1, "send every webhook this many times")
	largePDF := fs.Int64("large-pdf-bytes", 0, "serve file 1 as a padded PDF of this many bytes (0: normal)")
	firstID := fs.Int64("first-contract-id", 0, "id of the first contract created (0: the seed's); a restarted sandbox beside kept flexflow data must not reuse ids")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *timeScale <= 0 {
		return errors.New("-time-scale must be positive")
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))

	opts := sandbox.Options{
		Addr:                *listen,
		WebhookURL:          *webhookURL,
		SignKey:             firstNonEmpty(*signKey, getenv("ONEFLOW_SIGN_KEY")),
		APIToken:            firstNonEmpty(*token, getenv("ONEFLOW_API_TOKEN")),
		UserEmail:           firstNonEmpty(*userEmail, getenv("ONEFLOW_USER_EMAIL")),
		TimeScale:           *timeScale,
		DuplicateDeliveries: *duplicates,
		LargePDFBytes:       *largePDF,
		Logger:              logger,
	}
	if *seedPath != "" || *firstID > 0 {
		seed := sandbox.DefaultSeed()
		if *seedPath != "" {
			var err error
			if seed, err = sandbox.LoadSeed(*seedPath); err != nil {
				return err
			}
		}
		if *firstID > 0 {
			seed.FirstContractID = *firstID
		}
		opts.Seed = &seed
	}
	srv, err := sandbox.Start(opts)
	if err != nil {
		return err
	}
	webhooks := "not sent (no -webhook-url)"
	if *webhookURL != "" {
		webhooks = *webhookURL
	}
	fmt.Fprintf(stdout, "oneflow-sandbox listening on %s\n  Public API: %s\n  app actions and knobs: %s/_sandbox/\n  webhooks: %s\n",
		srv.URL(), srv.APIURL(), srv.URL(), webhooks)

	<-ctx.Done()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
