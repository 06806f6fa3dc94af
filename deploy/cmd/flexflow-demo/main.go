// Command flexflow-demo is `make demo`: against a running `make run`, it plays
// one contract's life in the Oneflow sandbox (create with an employee number,
// publish, sign), then prints the contract's sync log, its data fields as
// flexflow filled them, and the documents now in the Flex HRM sandbox.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/flexflow/flexflow/deploy/internal/demo"
	"github.com/flexflow/flexflow/deploy/internal/runner"
)

func main() {
	cfg := demo.Config{Out: os.Stdout}
	flag.StringVar(&cfg.OneflowSandboxURL, "oneflow-sandbox", "http://"+demo.EnvOr("ONEFLOW_SANDBOX_LISTEN", runner.OneflowSandboxAddr), "Oneflow sandbox URL")
	flag.StringVar(&cfg.FlexSandboxURL, "flexhrm-sandbox", "http://"+demo.EnvOr("FLEXHRM_SANDBOX_LISTEN", runner.FlexSandboxAddr), "Flex HRM sandbox URL")
	flag.IntVar(&cfg.TemplateID, "template", 11, "Oneflow sandbox template id (11: email delivery)")
	flag.StringVar(&cfg.EmployeeNumber, "employee", "1001", "Flex HRM employee number to type into the contract")
	flag.DurationVar(&cfg.Timeout, "timeout", 60*time.Second, "how long to wait for each step")
	flag.Parse()
	cfg.ContractSyncAddr = demo.EnvOr("CONTRACT_SYNC_ADDR", "127.0.0.1:9092")
	cfg.DocumentArchiveAddr = demo.EnvOr("DOCUMENT_ARCHIVE_ADDR", "127.0.0.1:9093")
	token, err := demo.OperatorToken()
	if err != nil {
		fmt.Fprintln(os.Stderr, "flexflow-demo:", err)
		os.Exit(1)
	}
	cfg.OperatorToken = token

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if _, err := demo.Play(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "flexflow-demo:", err)
		os.Exit(1)
	}
}
