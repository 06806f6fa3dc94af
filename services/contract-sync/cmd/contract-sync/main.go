// Command contract-sync runs the contract-sync service: it receives Oneflow
// webhooks and keeps contracts in step with Flex HRM.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/flexflow/flexflow/libs/telemetry"
	"github.com/flexflow/flexflow/services/contract-sync/service"
)

func main() {
	logger := telemetry.NewLogger(os.Stderr, service.Name, slog.LevelInfo, nil)
	cfg, err := service.LoadConfig()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := service.Run(ctx, cfg, logger); err != nil {
		logger.Error("contract-sync failed", slog.String("error", err.Error()))
		os.Exit(1)
	}
}
