package contracttest_test

import (
	"testing"
	"time"

	"github.com/flexflow/flexflow/libs/flexhrm"
	"github.com/flexflow/flexflow/libs/flexhrm/contracttest"
	"github.com/flexflow/flexflow/libs/flexhrm/sandbox"
)

// TestSandbox runs the contract suite, writes included, against the sandbox
// over loopback: the sandbox must be the model the suite describes.
func TestSandbox(t *testing.T) {
	srv := sandbox.New(sandbox.DefaultSeed())
	url, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	creds, err := flexhrm.ParseCredentials(srv.Credentials())
	if err != nil {
		t.Fatal(err)
	}
	contracttest.Run(t, contracttest.Target{
		APIRoot:     url,
		Credentials: creds,
		Options:     flexhrm.Options{Retry: flexhrm.RetryPolicy{MaxElapsedTime: 2 * time.Second, InitialInterval: 10 * time.Millisecond}},
		Write:       true,
		Fixtures: contracttest.Fixtures{
			EmploymentNumber:              sandbox.EmploymentNumberAnna,
			AmbiguousEmploymentNumber:     sandbox.EmploymentNumberTwice,
			InaccessibleCompanyID:         sandbox.CompanyHidden,
			CompanyWithoutOneflowCategory: sandbox.CompanyC,
			CategoryOutsideRegister:       sandbox.CategoryOneflowArkivA,
			WriteEmploymentNumber:         sandbox.EmploymentNumberAnna,
		},
	})
}

// TestSandboxWithDiscoveredFixtures runs the read-only suite the way it runs
// against a real Flex HRM with nothing but a root and credentials.
func TestSandboxWithDiscoveredFixtures(t *testing.T) {
	srv := sandbox.New(sandbox.DefaultSeed())
	url, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	creds, err := flexhrm.ParseCredentials(srv.Credentials())
	if err != nil {
		t.Fatal(err)
	}
	contracttest.Run(t, contracttest.Target{
		APIRoot:     url,
		Credentials: creds,
		Options:     flexhrm.Options{Retry: flexhrm.RetryPolicy{MaxElapsedTime: 2 * time.Second, InitialInterval: 10 * time.Millisecond}},
	})
}
