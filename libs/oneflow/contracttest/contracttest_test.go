package contracttest_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/flexflow/flexflow/libs/oneflow"
	"github.com/flexflow/flexflow/libs/oneflow/contracttest"
	"github.com/flexflow/flexflow/libs/oneflow/sandbox"
)

func TestSandboxMeetsTheContract(t *testing.T) {
	srv, err := sandbox.Start(sandbox.Options{})
	if err != nil {
		t.Fatalf("starting the sandbox: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	contracttest.Run(t, contracttest.Target{
		Options: oneflow.Options{
			BaseURL: srv.APIURL(), Token: srv.APIToken(), UserEmail: srv.UserEmail(),
			Logger:           slog.New(slog.DiscardHandler),
			RateLimitBackoff: time.Millisecond,
		},
		Write: true,
		DraftContract: func(t *testing.T) (int64, bool) {
			c, err := srv.CreateContract(sandbox.CreateContractRequest{TemplateID: sandbox.TemplateEmail, EmployeeNumber: "1001"})
			if err != nil {
				t.Fatalf("creating a draft: %v", err)
			}
			return c.ID, true
		},
	})
}

func TestRealOneflowMeetsTheContract(t *testing.T) {
	target, ok := contracttest.FromEnv()
	if !ok {
		t.Skipf("set %s, %s and %s to run the suite against a real Oneflow account",
			contracttest.EnvAPIURL, contracttest.EnvAPIToken, contracttest.EnvUserEmail)
	}
	contracttest.Run(t, target)
}
