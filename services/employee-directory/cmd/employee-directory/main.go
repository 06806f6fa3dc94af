// Command employee-directory serves flexflow's gRPC window onto Flex HRM
// employees; see package service for what it does and how it is configured.
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/flexflow/flexflow/libs/telemetry"
	"github.com/flexflow/flexflow/services/employee-directory/service"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	redactor := telemetry.NewRedactor()
	logger := telemetry.NewLogger(os.Stderr, service.Name, slog.LevelInfo, redactor)
	cfg, err := service.Load(nil)
	if err != nil {
		logger.Error("employee-directory cannot start: fix its configuration", "error", err)
		os.Exit(2)
	}
	cfg.RegisterSecrets(redactor)
	if err := service.Run(ctx, cfg, logger); err != nil {
		logger.Error("employee-directory stopped", "error", err)
		os.Exit(1)
	}
}
