package sandbox

import (
	"bytes"
	"testing"
	"time"

	"github.com/flexflow/flexflow/libs/oneflow"
)

func TestTheSameContractStateRendersToTheSameBytes(t *testing.T) {
	// Several fonts (title, headings, text): fpdf would write their
	// dictionary in map order, which differs from render to render.
	c := oneflow.Contract{ID: 1, State: "pending", UpdatedTime: "2026-05-02T10:15:30+00:00",
		DataFields: []oneflow.DataField{{Name: "First name", Value: "Anna"}},
		Parties:    []oneflow.Party{{Name: "Acme AB", Participants: []oneflow.Participant{{Name: "Maria"}}}}}
	a, err := RenderContractPDF(c)
	if err != nil {
		t.Fatal(err)
	}
	// Renders must not depend on the clock (fpdf would stamp it otherwise).
	for i := 0; i < 20; i++ {
		if i == 10 {
			time.Sleep(1100 * time.Millisecond) // past a clock second
		}
		b, err := RenderContractPDF(c)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Fatal("two renders of one contract state differ")
		}
	}
	c.UpdatedTime = "2026-05-03T10:15:30+00:00"
	if b, _ := RenderContractPDF(c); bytes.Equal(a, b) {
		t.Fatal("a changed contract rendered to the same bytes")
	}
}
