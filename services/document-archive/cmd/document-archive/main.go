// Command document-archive archives Oneflow contract PDFs into Flex HRM; see
// package service for what it does and how it is configured.
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/flexflow/flexflow/libs/telemetry"
	"github.com/flexflow/flexflow/services/document-archive/service"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	redactor := telemetry.NewRedactor()
	logger := telemetry.NewLogger(os.Stderr, service.Name, slog.LevelInfo, redactor)
	cfg, err := service.Load(nil)
	if err != nil {
		logger.Error("document-archive cannot start", "error", err)
		os.Exit(2)
	}
	cfg.RegisterSecrets(redactor)
	if err := service.Run(ctx, cfg, logger); err != nil {
		logger.Error("document-archive stopped", "error", err)
		os.Exit(1)
	}
}
