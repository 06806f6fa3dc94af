package domain

import "strings"

// ContractName builds the name flexflow gives a contract:
// `First Last - Template Name`.
func ContractName(firstName, surname, fullName, templateName string) string {
	person := strings.TrimSpace(strings.TrimSpace(firstName) + " " + strings.TrimSpace(surname))
	if person == "" {
		person = strings.TrimSpace(fullName)
	}
	templateName = strings.TrimSpace(templateName)
	switch {
	case person == "":
		return ""
	case templateName == "":
		return person
	}
	return person + " - " + templateName
}

// RenameDecision says what to do with the contract's name.
type RenameDecision struct {
	Rename bool
	// AlreadySet is true when the contract already carries the wanted name
	// (for example after a crash between the rename and the state write).
	AlreadySet bool
	Reason     string
}

// DecideRename applies the naming rule: rename when the contract has no name,
// still carries the template's name, or carries the name flexflow set before;
// a name an admin typed is kept.
func DecideRename(current, templateName, previouslySet, wanted string) RenameDecision {
	current = strings.TrimSpace(current)
	if wanted == "" {
		return RenameDecision{Reason: "employee has no name to build the contract name from; name kept"}
	}
	if current == wanted {
		return RenameDecision{AlreadySet: true, Reason: "contract already has the expected name"}
	}
	if current == "" || current == strings.TrimSpace(templateName) || (previouslySet != "" && current == previouslySet) {
		return RenameDecision{Rename: true}
	}
	return RenameDecision{Reason: "contract name was typed by an admin; name kept"}
}
