package sandbox_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/flexflow/flexflow/libs/oneflow"
	"github.com/flexflow/flexflow/libs/oneflow/internal/pdfcheck"
	"github.com/flexflow/flexflow/libs/oneflow/sandbox"
)

func TestTheDefaultSeedHoldsWhatFlexflowNeedsToBeShown(t *testing.T) {
	seed := sandbox.DefaultSeed()
	srv := startSandbox(t, sandbox.Options{Seed: &seed})
	dump := srv.State()

	var flexFields []string
	for _, tt := range dump.TemplateTypes {
		if tt.Name == oneflow.FlexHRMTemplateTypeName {
			for _, f := range tt.DataFields {
				flexFields = append(flexFields, f.CustomID)
			}
		}
	}
	var want []string
	for _, f := range oneflow.FlexHRMDataFields() {
		want = append(want, f.CustomID)
	}
	if !slices.Equal(flexFields, want) {
		t.Fatalf("the Flex HRM type holds %v, want the 15 of mapping.md %v", flexFields, want)
	}

	channels := map[string]bool{}
	twoStepSMS, withoutNumber, nonFlex := false, false, false
	for _, tmpl := range dump.Templates {
		isFlex := tmpl.TemplateType.Name == oneflow.FlexHRMTemplateTypeName
		hasNumber := slices.Contains(tmpl.DataFields, oneflow.CustomIDEmployeeNumber)
		switch {
		case !isFlex:
			nonFlex = true
		case !hasNumber:
			withoutNumber = true
		default:
			if len(tmpl.DataFields) != 15 {
				t.Errorf("template %q has %d fields, want 15", tmpl.Name, len(tmpl.DataFields))
			}
			channels[tmpl.PreferredDeliveryChannel] = true
			twoStepSMS = twoStepSMS || tmpl.PreferredTwoStepMethod == oneflow.TwoStepSMS
		}
	}
	for _, ch := range []string{"email", "sms", "email_and_sms", "same_device", "none"} {
		if !channels[ch] {
			t.Errorf("no Flex HRM template prefers delivery channel %s", ch)
		}
	}
	if !twoStepSMS || !withoutNumber || !nonFlex {
		t.Errorf("two-step sms %v, without employee number %v, non-Flex type %v: want all", twoStepSMS, withoutNumber, nonFlex)
	}

	active, inactive := false, false
	for _, u := range dump.Users {
		if u.Active && u.Email == sandbox.ManagerEmail {
			active = true
		}
		if !u.Active {
			inactive = true
		}
	}
	if !active || !inactive {
		t.Errorf("an active user with the manager's email %v, an inactive user %v: want both", active, inactive)
	}

	c, err := srv.CreateContract(sandbox.CreateContractRequest{TemplateID: sandbox.TemplateEmail})
	if err != nil {
		t.Fatal(err)
	}
	owner, ok := oneflow.OwnerSideParty(c)
	if !ok || owner.Name != "Acme AB" || len(owner.Participants) != 1 || !owner.Participants[0].Organizer {
		t.Fatalf("owner side %+v", owner)
	}
	if c.Private.Name != "Employment contract (email)" || oneflow.PreferredDeliveryChannel(c) != "email" || oneflow.PreferredTwoStepMethod(c) != "none" {
		t.Fatalf("contract %+v", c)
	}
}

func TestASeedFileReplacesTheDefaultAndIsChecked(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "seed.json")
	b, err := os.ReadFile("default_seed.json")
	if err != nil {
		t.Fatal(err)
	}
	custom := strings.Replace(string(b), `"name": "Acme AB"`, `"name": "Beta AB"`, 1)
	if err := os.WriteFile(good, []byte(custom), 0o600); err != nil {
		t.Fatal(err)
	}
	seed, err := sandbox.LoadSeed(good)
	if err != nil || seed.OwnerParty.Name != "Beta AB" {
		t.Fatalf("LoadSeed: %+v, %v", seed.OwnerParty, err)
	}

	bad := filepath.Join(dir, "bad.json")
	broken := strings.Replace(string(b), `"template_type_id": 2`, `"template_type_id": 99`, 1)
	if err := os.WriteFile(bad, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := sandbox.LoadSeed(bad); err == nil || !strings.Contains(err.Error(), "template type 99 does not exist") {
		t.Fatalf("a seed with a template of a missing type: %v", err)
	}
	if _, err := sandbox.LoadSeed(filepath.Join(dir, "missing.json")); err == nil {
		t.Fatal("a missing seed file was accepted")
	}
}

func TestTheContractPDFShowsNameStateAndDataFields(t *testing.T) {
	c := oneflow.Contract{
		ID: 4711, State: oneflow.StatePending, Private: oneflow.ContractPrivate{Name: "Anna Andersson - Employment (2026)"},
		DataFields: []oneflow.DataField{{Name: "City", Value: "Malmö"}, {Name: "Position", Value: "Developer"}},
	}
	b, err := sandbox.RenderContractPDF(c)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("%PDF-")) {
		t.Fatalf("no PDF header")
	}
	if _, err := pdfcheck.Check(b); err != nil {
		t.Fatalf("not a valid PDF: %v", err)
	}
	for _, text := range []string{`Anna Andersson - Employment \(2026\)`, "state: pending", "City: Malm\xf6", "Position: Developer"} {
		if !bytes.Contains(b, []byte(text)) {
			t.Errorf("the PDF does not show %q", text)
		}
	}
}

func TestALargePDFHasExactlyTheAskedSizeAndStaysValid(t *testing.T) {
	lines := []string{"Big contract (test)", "state: signed", "Åsa: ünïcode"}
	for _, size := range []int64{2_000, 100_000, 1 << 20, 1<<20 + 7, 3_000_001} {
		var buf bytes.Buffer
		if err := sandbox.WriteLargePDF(&buf, size, lines); err != nil {
			t.Fatal(err)
		}
		if int64(buf.Len()) != size {
			t.Errorf("asked for %d bytes, got %d", size, buf.Len())
		}
		if _, err := pdfcheck.Check(buf.Bytes()); err != nil {
			t.Errorf("the %d-byte PDF is not valid: %v", size, err)
		}
	}
	var tiny bytes.Buffer
	if err := sandbox.WriteLargePDF(&tiny, 10, lines); err != nil {
		t.Fatal(err)
	}
	if _, err := pdfcheck.Check(tiny.Bytes()); err != nil {
		t.Errorf("the smallest PDF is invalid: %v", err)
	}
}
