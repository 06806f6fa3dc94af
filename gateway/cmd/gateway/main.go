// Command gateway runs flexflow's HTTP edge: Oneflow webhooks, REST routes to
// the services, the OpenAPI document and /healthz.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/flexflow/flexflow/gateway/service"
	"github.com/flexflow/flexflow/libs/config"
	"github.com/flexflow/flexflow/libs/telemetry"
)

func main() {
	var cfg service.Config
	if err := config.Load(&cfg); err != nil {
		fmt.Fprintln(os.Stderr, "gateway:", err)
		os.Exit(2)
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(os.Stderr, "gateway: config:", err)
		os.Exit(2)
	}
	redactor := telemetry.NewRedactor()
	logger := telemetry.NewLogger(os.Stderr, "gateway", slog.LevelInfo, redactor)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	tp, err := telemetry.Setup(ctx, telemetry.Options{ServiceName: "gateway", Redactor: redactor, Logger: logger})
	if err != nil {
		fmt.Fprintln(os.Stderr, "gateway: telemetry:", err)
		os.Exit(2)
	}
	runErr := service.Run(ctx, cfg, logger)
	// Flush spans even when Run failed: the failing request's trace is the
	// one an SRE will look for.
	flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := tp.Shutdown(flushCtx); err != nil {
		logger.Warn("flushing traces failed", "error", err)
	}
	if runErr != nil {
		logger.Error("gateway stopped", "error", runErr)
		os.Exit(1)
	}
}
