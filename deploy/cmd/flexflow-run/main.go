// Command flexflow-run is `make run`: it starts NATS, the vendor sandboxes,
// the three services and the gateway as separate processes, prints one ready
// line, and stops them all cleanly on Ctrl-C.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/flexflow/flexflow/deploy/internal/runner"
)

func main() {
	exe, _ := os.Executable()
	binDir := flag.String("bin", filepath.Dir(exe), "directory holding the flexflow binaries")
	flag.Parse()
	env := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := runner.Run(ctx, *binDir, env, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "flexflow-run:", err)
		os.Exit(1)
	}
}
