package oneflow

// FlexHRMTemplateTypeName is the template type whose contracts flexflow keeps
// in step with Flex HRM (specs/mapping.md).
const FlexHRMTemplateTypeName = "Flex HRM"

// Custom ids of the Flex HRM template type's data fields (specs/mapping.md),
// the stable keys flexflow reads and writes contracts by.
const (
	CustomIDEmployeeNumber     = "flexhrm_employee_number"
	CustomIDFirstName          = "flexhrm_first_name"
	CustomIDSurname            = "flexhrm_surname"
	CustomIDNationalID         = "flexhrm_national_id"
	CustomIDCOAddress          = "flexhrm_co_address"
	CustomIDStreetAddress      = "flexhrm_street_address"
	CustomIDPostalCode         = "flexhrm_postal_code"
	CustomIDCity               = "flexhrm_city"
	CustomIDCountry            = "flexhrm_country"
	CustomIDEmailWork          = "flexhrm_email_work"
	CustomIDMobilePhonePrivate = "flexhrm_mobile_phone_private"
	CustomIDImmediateManager   = "flexhrm_immediate_manager"
	CustomIDPosition           = "flexhrm_position"
	CustomIDEmploymentStart    = "flexhrm_employment_start"
	CustomIDEmploymentEnd      = "flexhrm_employment_end"
)

// FlexHRMDataFields returns the 15 data fields of the Flex HRM template type
// in mapping order: what `flexflowctl setup-oneflow` ensures and the sandbox
// seeds. Each call returns a fresh slice.
func FlexHRMDataFields() []TemplateTypeDataField {
	return []TemplateTypeDataField{
		{CustomID: CustomIDEmployeeNumber, Name: "Employee number"},
		{CustomID: CustomIDFirstName, Name: "First name"},
		{CustomID: CustomIDSurname, Name: "Surname"},
		{CustomID: CustomIDNationalID, Name: "National ID number"},
		{CustomID: CustomIDCOAddress, Name: "C/O address"},
		{CustomID: CustomIDStreetAddress, Name: "Street address"},
		{CustomID: CustomIDPostalCode, Name: "Postal code"},
		{CustomID: CustomIDCity, Name: "City"},
		{CustomID: CustomIDCountry, Name: "Country"},
		{CustomID: CustomIDEmailWork, Name: "Email work"},
		{CustomID: CustomIDMobilePhonePrivate, Name: "Mobile phone private"},
		{CustomID: CustomIDImmediateManager, Name: "Immediate manager"},
		{CustomID: CustomIDPosition, Name: "Position"},
		{CustomID: CustomIDEmploymentStart, Name: "Start of employment", Placeholder: "YYYY-MM-DD"},
		{CustomID: CustomIDEmploymentEnd, Name: "End of employment", Placeholder: "YYYY-MM-DD"},
	}
}
