// Command contract-sync runs the contract-sync service: it receives Oneflow
// webhooks and keeps contracts in step with Flex HRM; see package service for
// what it does and how it is configured.
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/flexflow/flexflow/libs/telemetry"
	"github.com/flexflow/flexflow/services/contract-sync/service"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	redactor := telemetry.NewRedactor()
	logger := telemetry.NewLogger(os.Stderr, service.Name, slog.LevelInfo, redactor)
	cfg, err := service.LoadConfig()
	if err != nil {
		logger.Error("contract-sync cannot start: fix its configuration", "error", err)
		os.Exit(2)
	}
	cfg.RegisterSecrets(redactor)
	cfg.Redactor = redactor
	if err := service.Run(ctx, cfg, logger); err != nil {
		logger.Error("contract-sync stopped", "error", err)
		os.Exit(1)
	}
}
