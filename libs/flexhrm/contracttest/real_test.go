package contracttest_test

import (
	"testing"

	"github.com/flexflow/flexflow/libs/flexhrm/contracttest"
)

// TestRealFlexHRM runs the suite against a real Flex HRM when
// FLEXHRM_API_ROOT and FLEXHRM_CREDENTIALS are set; read-only unless
// FLEXHRM_CONTRACT_TEST_WRITE=1.
func TestRealFlexHRM(t *testing.T) {
	target, ok, err := contracttest.TargetFromEnv()
	if !ok {
		t.Skip("FLEXHRM_API_ROOT and FLEXHRM_CREDENTIALS are not set")
	}
	if err != nil {
		t.Fatal(err)
	}
	contracttest.Run(t, target)
}
