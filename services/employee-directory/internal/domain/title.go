package domain

import (
	"cmp"
	"slices"
	"strings"
)

// Title is a Flex HRM employment title of one company.
type Title struct {
	ID        string
	CompanyID string
	Code      string
	Name      string
	Active    bool
}

// TitleByID finds a title among titles by its id (active or not: a period may
// still point at a retired title).
func TitleByID(titles []Title, id string) (Title, bool) {
	if id == "" {
		return Title{}, false
	}
	for _, t := range titles {
		if t.ID == id {
			return t, true
		}
	}
	return Title{}, false
}

// MatchTitle resolves a position name to an active title of companyID,
// comparing names case-insensitively after trimming. When several titles
// match, the one whose name has the exact same case wins, then the lowest id,
// so the choice is stable. An empty position matches nothing.
func MatchTitle(titles []Title, companyID, position string) (Title, bool) {
	want := strings.TrimSpace(position)
	if want == "" {
		return Title{}, false
	}
	var matches []Title
	for _, t := range titles {
		if !t.Active || (t.CompanyID != "" && t.CompanyID != companyID) {
			continue
		}
		if strings.EqualFold(strings.TrimSpace(t.Name), want) {
			matches = append(matches, t)
		}
	}
	if len(matches) == 0 {
		return Title{}, false
	}
	slices.SortFunc(matches, func(a, b Title) int {
		ae, be := strings.TrimSpace(a.Name) == want, strings.TrimSpace(b.Name) == want
		if ae != be {
			if ae {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return matches[0], true
}
