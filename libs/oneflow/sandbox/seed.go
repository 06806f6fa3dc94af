package sandbox

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/flexflow/flexflow/libs/oneflow"
)

//go:embed default_seed.json
var defaultSeedJSON []byte

// Seed is the sandbox's starting data, replaceable by a JSON file of the same
// shape (see default_seed.json). Reset returns the sandbox to it.
type Seed struct {
	// APIToken is the token the API accepts in x-oneflow-api-token.
	APIToken string `json:"api_token"`
	// UserEmail is the API user; any active user's email is accepted in
	// x-oneflow-user-email.
	UserEmail string `json:"user_email"`
	// SignKey signs webhooks.
	SignKey string `json:"sign_key"`
	// WebhookURL receives webhooks; empty means none are sent.
	WebhookURL string `json:"webhook_url,omitempty"`
	// FirstContractID is the id of the first contract created.
	FirstContractID int64 `json:"first_contract_id"`
	// OwnerParty is the account's company, put on every new contract.
	OwnerParty SeedParty `json:"owner_party"`
	// Users of the account, active and inactive.
	Users []oneflow.User `json:"users"`
	// TemplateTypes with their data fields.
	TemplateTypes []SeedTemplateType `json:"template_types"`
	// Templates contracts are created from.
	Templates []SeedTemplate `json:"templates"`
}

// SeedParty is the owner-side company and its organizer, who must be an active
// user.
type SeedParty struct {
	Name      string     `json:"name"`
	Organizer SeedPerson `json:"organizer"`
}

// SeedPerson is a participant put on every new contract.
type SeedPerson struct {
	Name        string `json:"name"`
	Email       string `json:"email"`
	PhoneNumber string `json:"phone_number,omitempty"`
	Title       string `json:"title,omitempty"`
}

// SeedTemplateType is a template type and its data fields.
type SeedTemplateType struct {
	ID          int64                           `json:"id"`
	Name        string                          `json:"name"`
	Description string                          `json:"description,omitempty"`
	DataFields  []oneflow.TemplateTypeDataField `json:"data_fields"`
}

// SeedTemplate is a template: its type's data fields minus ExcludeCustomIDs,
// and the delivery channel and two-step method its contracts prefer.
type SeedTemplate struct {
	ID                       int64    `json:"id"`
	Name                     string   `json:"name"`
	TemplateTypeID           int64    `json:"template_type_id"`
	PreferredDeliveryChannel string   `json:"preferred_delivery_channel"`
	PreferredTwoStepMethod   string   `json:"preferred_two_step_method"`
	ExcludeCustomIDs         []string `json:"exclude_custom_ids,omitempty"`
}

// Template ids of the default seed, for tests and demos.
const (
	TemplateEmail             int64 = 11
	TemplateSMS               int64 = 12
	TemplateEmailAndSMS       int64 = 13
	TemplateSameDevice        int64 = 14
	TemplateNoDelivery        int64 = 15
	TemplateTwoStepSMS        int64 = 16
	TemplateNoEmployeeNumber  int64 = 17
	TemplateNonFlex           int64 = 18
	TemplateTypeFlexHRM       int64 = 1
	TemplateTypeNonDisclosure int64 = 2
	// ManagerEmail is the active user matching the Flex HRM sandbox's manager
	// of employee 1001.
	ManagerEmail = "maria.manager@example.se"
)

// DefaultSeed returns a fresh copy of the built-in seed.
func DefaultSeed() Seed {
	seed, err := ParseSeed(defaultSeedJSON)
	if err != nil {
		// The embedded seed is checked by the tests; this cannot happen in a
		// released build.
		panic(fmt.Sprintf("sandbox: the embedded default seed is invalid: %v", err))
	}
	return seed
}

// LoadSeed reads and checks a seed file.
func LoadSeed(path string) (Seed, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Seed{}, fmt.Errorf("sandbox: reading the seed: %w", err)
	}
	return ParseSeed(b)
}

// ParseSeed decodes and checks a seed.
func ParseSeed(b []byte) (Seed, error) {
	var seed Seed
	if err := json.Unmarshal(b, &seed); err != nil {
		return Seed{}, fmt.Errorf("sandbox: decoding the seed: %w", err)
	}
	if err := seed.Validate(); err != nil {
		return Seed{}, err
	}
	return seed, nil
}

var (
	deliveryChannels = []string{oneflow.DeliveryChannelEmail, oneflow.DeliveryChannelSMS,
		oneflow.DeliveryChannelEmailAndSMS, oneflow.DeliveryChannelSameDevice, oneflow.DeliveryChannelNone}
	twoStepMethods = []string{oneflow.TwoStepEmail, oneflow.TwoStepSMS, oneflow.TwoStepNone}
)

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Validate checks that the seed hangs together: unique ids, templates of
// existing types, known channels, and an active organizer and API user.
func (s Seed) Validate() error {
	var errs []error
	if s.APIToken == "" {
		errs = append(errs, errors.New("api_token is empty"))
	}
	if s.OwnerParty.Name == "" {
		errs = append(errs, errors.New("owner_party.name is empty"))
	}
	active := map[string]bool{}
	userIDs := map[int64]bool{}
	for _, u := range s.Users {
		if u.ID <= 0 || userIDs[u.ID] {
			errs = append(errs, fmt.Errorf("user id %d is not positive or not unique", u.ID))
		}
		userIDs[u.ID] = true
		if u.Active {
			active[strings.ToLower(u.Email)] = true
		}
	}
	if s.UserEmail != "" && !active[strings.ToLower(s.UserEmail)] {
		errs = append(errs, errors.New("user_email is not an active user's"))
	}
	if !active[strings.ToLower(s.OwnerParty.Organizer.Email)] {
		errs = append(errs, errors.New("owner_party.organizer.email is not an active user's"))
	}
	typeIDs := map[int64]bool{}
	for _, tt := range s.TemplateTypes {
		if tt.ID <= 0 || typeIDs[tt.ID] {
			errs = append(errs, fmt.Errorf("template type id %d is not positive or not unique", tt.ID))
		}
		typeIDs[tt.ID] = true
		custom := map[string]bool{}
		for _, f := range tt.DataFields {
			if f.Name == "" || (f.CustomID != "" && custom[f.CustomID]) {
				errs = append(errs, fmt.Errorf("template type %d: data field %q has no name or a duplicate custom id", tt.ID, f.CustomID))
			}
			custom[f.CustomID] = true
		}
	}
	templateIDs := map[int64]bool{}
	for _, t := range s.Templates {
		if t.ID <= 0 || templateIDs[t.ID] {
			errs = append(errs, fmt.Errorf("template id %d is not positive or not unique", t.ID))
		}
		templateIDs[t.ID] = true
		if !typeIDs[t.TemplateTypeID] {
			errs = append(errs, fmt.Errorf("template %d: template type %d does not exist", t.ID, t.TemplateTypeID))
		}
		if !contains(deliveryChannels, t.PreferredDeliveryChannel) {
			errs = append(errs, fmt.Errorf("template %d: unknown delivery channel %q", t.ID, t.PreferredDeliveryChannel))
		}
		if !contains(twoStepMethods, t.PreferredTwoStepMethod) {
			errs = append(errs, fmt.Errorf("template %d: unknown two-step method %q", t.ID, t.PreferredTwoStepMethod))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("sandbox: invalid seed: %w", errors.Join(errs...))
	}
	return nil
}
