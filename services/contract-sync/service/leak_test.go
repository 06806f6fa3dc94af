package service_test

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/flexflow/flexflow/services/contract-sync/internal/testenv"
)

// ourGoroutines lists goroutines running contract-sync code (not the test's).
func ourGoroutines() []string {
	buf := make([]byte, 1<<22)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "services/contract-sync/internal/") && !strings.Contains(g, "internal/testenv") &&
			!strings.Contains(g, "ourGoroutines") {
			out = append(out, g)
		}
	}
	return out
}

func TestCloseLeavesNoGoroutineOfContractSyncBehind(t *testing.T) {
	e := testenv.New(t, testenv.Options{})
	id := create(t, e, templateEmail, "1001")
	e.Idle()
	_ = e.Sync(id)
	if err := e.Service.Close(); err != nil {
		t.Logf("close: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		left := ourGoroutines()
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines left after Close:\n%s", len(left), strings.Join(left, "\n\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
