package oneflow

// The models mirror the JSON of Oneflow's Public API for the attributes
// flexflow reads; attributes Oneflow adds over time are ignored when decoding.

// Contract states as Oneflow reports them.
const (
	StateDraft    = "draft"
	StatePending  = "pending"
	StateOverdue  = "overdue"
	StateSigned   = "signed"
	StateDeclined = "declined"
)

// Delivery channels and two-step authentication methods seen in
// available_options.
const (
	DeliveryChannelEmail       = "email"
	DeliveryChannelSMS         = "sms"
	DeliveryChannelEmailAndSMS = "email_and_sms"
	DeliveryChannelSameDevice  = "same_device"
	DeliveryChannelNone        = "none"

	TwoStepEmail = "email"
	TwoStepSMS   = "sms"
	TwoStepNone  = "none"
)

// Party types.
const (
	PartyTypeCompany    = "company"
	PartyTypeIndividual = "individual"
)

// Participant sign states used by the sandbox (Oneflow reports more).
const (
	SignStateNotSigned = "not_signed"
	SignStateSigned    = "signed"
	SignStateDeclined  = "declined"
)

// Limits Oneflow documents.
const (
	// MaxParticipants is the most participants a contract may have.
	MaxParticipants = 40
	// MaxOwnerSideParticipants is the most participants on the owner side.
	MaxOwnerSideParticipants = 29
	// MaxDataFieldValueLength is the most characters (not bytes) a text data
	// field value may hold.
	MaxDataFieldValueLength = 1024
	// MaxPageLimit is the largest page a list call returns.
	MaxPageLimit = 100
	// MaxPageOffset is the largest offset a list call accepts.
	MaxPageOffset = 19900
)

// Contract is what GET /contracts/{id} returns, reduced to what flexflow
// reads.
type Contract struct {
	ID               int64                    `json:"id"`
	State            string                   `json:"state"`
	Private          ContractPrivate          `json:"_private"`
	PrivateOwnerside ContractPrivateOwnerside `json:"_private_ownerside"`
	DataFields       []DataField              `json:"data_fields"`
	Parties          []Party                  `json:"parties"`
	AvailableOptions ContractAvailableOptions `json:"available_options"`
	PublishedTime    string                   `json:"published_time,omitempty"`
	UpdatedTime      string                   `json:"updated_time,omitempty"`
}

// ContractPrivate holds the attributes only the contract's own parties see.
type ContractPrivate struct {
	Name string `json:"name"`
}

// ContractPrivateOwnerside holds the owner side's attributes: which template
// (and so which template type) the contract came from.
type ContractPrivateOwnerside struct {
	TemplateID     int64 `json:"template_id,omitempty"`
	TemplateTypeID int64 `json:"template_type_id,omitempty"`
}

// ContractAvailableOptions lists how the contract may be delivered and how
// signers may be asked to authenticate; the preferred ones decide which
// participant data flexflow needs.
type ContractAvailableOptions struct {
	DeliveryChannels             []Option `json:"delivery_channels"`
	TwoStepAuthenticationMethods []Option `json:"two_step_authentication_methods"`
}

// Option is one delivery channel or two-step method of a contract.
type Option struct {
	Name                          string   `json:"name"`
	Preferred                     bool     `json:"preferred"`
	RequiredParticipantAttributes []string `json:"required_participant_attributes"`
}

// DataField is one data field of a contract; CustomID is its stable key.
type DataField struct {
	ID               int64                     `json:"id,omitempty"`
	Name             string                    `json:"name,omitempty"`
	Value            string                    `json:"value"`
	PrivateOwnerside DataFieldPrivateOwnerside `json:"_private_ownerside"`
}

// DataFieldPrivateOwnerside holds the data field's external key.
type DataFieldPrivateOwnerside struct {
	CustomID string `json:"custom_id"`
}

// DataFieldUpdate is one value to write in UpdateDataFields, addressed by
// custom id.
type DataFieldUpdate struct {
	CustomID string
	Value    string
}

// Party is one side of a contract; MyParty marks the owner side.
type Party struct {
	ID           int64         `json:"id"`
	Name         string        `json:"name"`
	Type         string        `json:"type"`
	MyParty      bool          `json:"my_party"`
	Participants []Participant `json:"participants"`
}

// Participant is a person on a party.
type Participant struct {
	ID                          int64       `json:"id"`
	Name                        string      `json:"name"`
	Email                       string      `json:"email"`
	PhoneNumber                 string      `json:"phone_number"`
	Title                       string      `json:"title"`
	IdentificationNumber        string      `json:"identification_number"`
	Signatory                   bool        `json:"signatory"`
	Organizer                   bool        `json:"organizer"`
	DeliveryChannel             string      `json:"delivery_channel"`
	TwoStepAuthenticationMethod string      `json:"two_step_authentication_method"`
	SignMethod                  string      `json:"sign_method"`
	SignState                   string      `json:"sign_state"`
	Permissions                 Permissions `json:"_permissions"`
}

// Permissions says what a participant may do with the contract.
type Permissions struct {
	ContractUpdate bool `json:"contract:update"`
}

// NewParticipant is the participant to add with AddCounterparty or
// AddParticipant. Empty strings are left out of the request, so Oneflow's
// defaults (e.g. the contract's preferred delivery channel) apply.
type NewParticipant struct {
	Name                        string       `json:"name"`
	Email                       string       `json:"email,omitempty"`
	PhoneNumber                 string       `json:"phone_number,omitempty"`
	Title                       string       `json:"title,omitempty"`
	IdentificationNumber        string       `json:"identification_number,omitempty"`
	Signatory                   bool         `json:"signatory"`
	Organizer                   bool         `json:"organizer,omitempty"`
	DeliveryChannel             string       `json:"delivery_channel,omitempty"`
	TwoStepAuthenticationMethod string       `json:"two_step_authentication_method,omitempty"`
	SignMethod                  string       `json:"sign_method,omitempty"`
	Permissions                 *Permissions `json:"_permissions,omitempty"`
}

// ParticipantUpdate changes some attributes of a participant; nil fields are
// left as they are. Owner-side emails cannot be changed (Oneflow refuses).
type ParticipantUpdate struct {
	Name                        *string      `json:"name,omitempty"`
	Email                       *string      `json:"email,omitempty"`
	PhoneNumber                 *string      `json:"phone_number,omitempty"`
	Title                       *string      `json:"title,omitempty"`
	IdentificationNumber        *string      `json:"identification_number,omitempty"`
	Signatory                   *bool        `json:"signatory,omitempty"`
	DeliveryChannel             *string      `json:"delivery_channel,omitempty"`
	TwoStepAuthenticationMethod *string      `json:"two_step_authentication_method,omitempty"`
	Permissions                 *Permissions `json:"_permissions,omitempty"`
}

// User is a user of the Oneflow account; only active users can be owner-side
// participants.
type User struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Email  string `json:"email"`
	Active bool   `json:"active"`
	State  string `json:"state"`
}

// UserPage is one page of GET /users.
type UserPage struct {
	// Count is the total number of users, across all pages.
	Count int
	Users []User
	// HasNext says whether a page follows this one.
	HasNext bool
}

// Template is what GET /templates/{id} returns.
type Template struct {
	ID           int64        `json:"id"`
	Name         string       `json:"name"`
	TemplateType TemplateType `json:"template_type"`
}

// TemplateType groups templates that share a set of data fields (e.g. "Flex
// HRM").
type TemplateType struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// NewTemplateType is the template type to create with CreateTemplateType.
type NewTemplateType struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// TemplateTypeDataField is one data field defined by a template type; every
// template of the type, and every contract made from one, carries it.
type TemplateTypeDataField struct {
	ID          int64  `json:"id,omitempty"`
	CustomID    string `json:"custom_id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Placeholder string `json:"placeholder,omitempty"`
	Value       string `json:"value,omitempty"`
}
