// Command flexflowctl is the operator's tool for flexflow; see `flexflowctl --help`.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/flexflow/flexflow/deploy/internal/ctl"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := ctl.Main(ctx, os.Args[1:], ctl.Env{})
	stop()
	os.Exit(code)
}
