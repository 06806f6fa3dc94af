package domain

import "strings"

// Delivery channels and two-step methods Oneflow offers in
// available_options.
const (
	ChannelEmail       = "email"
	ChannelSMS         = "sms"
	ChannelEmailAndSMS = "email_and_sms"
	ChannelSameDevice  = "same_device"
	ChannelNone        = "none"
	TwoStepEmail       = "email"
	TwoStepSMS         = "sms"
	TwoStepNone        = "none"
)

// ParticipantDecision says whether the employee can be added as the
// counterparty signatory and with which channel and two-step method.
type ParticipantDecision struct {
	Add             bool
	DeliveryChannel string
	TwoStepMethod   string
	// Reason explains a skip, free of personal data.
	Reason string
}

// DecideEmployeeParticipant applies the participant rule of the fetch flow:
// email delivery needs a work email, sms needs a private mobile (phone4),
// email_and_sms needs both, and a two-step method of email or sms needs the
// same. Channels none and same_device mean the employee is not added: the
// admin hands the contract over some other way.
func DecideEmployeeParticipant(deliveryChannel, twoStepMethod string, hasEmail, hasPhone bool) ParticipantDecision {
	ch := strings.ToLower(strings.TrimSpace(deliveryChannel))
	tf := strings.ToLower(strings.TrimSpace(twoStepMethod))
	d := ParticipantDecision{DeliveryChannel: ch, TwoStepMethod: tf}
	switch ch {
	case "":
		d.Reason = "contract has no preferred delivery channel; employee not added as participant"
		return d
	case ChannelNone, ChannelSameDevice:
		d.Reason = "delivery channel " + ch + " needs no participant contact; employee not added as participant"
		return d
	case ChannelEmail:
		if !hasEmail {
			d.Reason = "delivery channel email needs the employee's work email, which Flex HRM does not have; employee not added as participant"
			return d
		}
	case ChannelSMS:
		if !hasPhone {
			d.Reason = "delivery channel sms needs the employee's mobile phone, which Flex HRM does not have; employee not added as participant"
			return d
		}
	case ChannelEmailAndSMS:
		if !hasEmail || !hasPhone {
			d.Reason = "delivery channel email_and_sms needs both work email and mobile phone; employee not added as participant"
			return d
		}
	default:
		d.Reason = "delivery channel " + ch + " is not supported by flexflow; employee not added as participant"
		return d
	}
	switch tf {
	case TwoStepEmail:
		if !hasEmail {
			d.Reason = "two-step method email needs the employee's work email, which Flex HRM does not have; employee not added as participant"
			return d
		}
	case TwoStepSMS:
		if !hasPhone {
			d.Reason = "two-step method sms needs the employee's mobile phone, which Flex HRM does not have; employee not added as participant"
			return d
		}
	}
	d.Add = true
	return d
}

// ManagerDecision is the outcome of the manager rule before the Oneflow user
// lookup: whether to look for the manager's Oneflow user at all.
type ManagerDecision struct {
	Lookup bool
	// Outcome is "warning" or "skipped" when Lookup is false.
	Outcome string
	Reason  string
}

// DecideManagerLookup applies the first conditions of the manager rule:
// the employee needs an immediate manager with a work email, and nobody on
// the contract may already have that email.
func DecideManagerLookup(e Employee, contractEmails []string) ManagerDecision {
	if !e.HasManager && e.ImmediateManagerEmail == "" {
		return ManagerDecision{Outcome: "warning", Reason: "employee has no immediate manager in Flex HRM; manager not added"}
	}
	if strings.TrimSpace(e.ImmediateManagerEmail) == "" {
		return ManagerDecision{Outcome: "warning", Reason: "immediate manager has no work email in Flex HRM; manager not added"}
	}
	for _, em := range contractEmails {
		if EqualEmail(em, e.ImmediateManagerEmail) {
			return ManagerDecision{Outcome: "skipped", Reason: "immediate manager is already a participant of the contract"}
		}
	}
	return ManagerDecision{Lookup: true}
}

// EqualEmail compares email addresses the way Oneflow matches users: case
// and surrounding space do not count.
func EqualEmail(a, b string) bool {
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	return a != "" && strings.EqualFold(a, b)
}
