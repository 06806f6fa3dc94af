package oneflow

import "strings"

// DataFieldValue returns the value of the contract's data field with this
// custom id, and whether the contract has such a field at all (a template may
// leave fields out, which is not the same as an empty value).
func DataFieldValue(c Contract, customID string) (string, bool) {
	if customID == "" {
		return "", false
	}
	for _, f := range c.DataFields {
		if f.PrivateOwnerside.CustomID == customID {
			return f.Value, true
		}
	}
	return "", false
}

// PreferredDeliveryChannel returns the name of the contract's preferred
// delivery channel (email, sms, email_and_sms, same_device, none, ...), or ""
// when none is marked preferred.
func PreferredDeliveryChannel(c Contract) string {
	return preferred(c.AvailableOptions.DeliveryChannels)
}

// PreferredTwoStepMethod returns the name of the contract's preferred two-step
// authentication method (email, sms, none, or an eID method), or "" when none
// is marked preferred.
func PreferredTwoStepMethod(c Contract) string {
	return preferred(c.AvailableOptions.TwoStepAuthenticationMethods)
}

func preferred(options []Option) string {
	for _, o := range options {
		if o.Preferred {
			return o.Name
		}
	}
	return ""
}

// OwnerSideParty returns the party of the account that owns the contract (the
// one with my_party true).
func OwnerSideParty(c Contract) (Party, bool) {
	for _, p := range c.Parties {
		if p.MyParty {
			return p, true
		}
	}
	return Party{}, false
}

// HasParticipantWithEmail reports whether any participant of any party has
// this email, ignoring case and surrounding spaces. An empty email never
// matches.
func HasParticipantWithEmail(c Contract, email string) bool {
	want := normalizeEmail(email)
	if want == "" {
		return false
	}
	for _, p := range c.Parties {
		for _, participant := range p.Participants {
			if strings.EqualFold(strings.TrimSpace(participant.Email), want) {
				return true
			}
		}
	}
	return false
}
