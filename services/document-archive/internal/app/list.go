package app

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/flexflow/flexflow/services/document-archive/internal/domain"
)

// DocumentQuery selects archived documents: exactly one of ContractID and
// EmployeeNumber is set.
type DocumentQuery struct {
	ContractID     int64
	EmployeeNumber string
}

// ErrInvalidQuery says a DocumentQuery named neither or both selectors.
var ErrInvalidQuery = errors.New("give exactly one of contract id and employee number")

// Lister answers ListDocuments from the archive records.
type Lister struct {
	records Records
}

// NewLister wires the query; records is required.
func NewLister(records Records) (*Lister, error) {
	if records == nil {
		return nil, errors.New("app: Records is nil")
	}
	return &Lister{records: records}, nil
}

// ListDocuments returns the matching records, oldest first.
func (l *Lister) ListDocuments(ctx context.Context, q DocumentQuery) ([]domain.Record, error) {
	number := strings.TrimSpace(q.EmployeeNumber)
	var (
		recs []domain.Record
		err  error
	)
	switch {
	case q.ContractID < 0, (q.ContractID == 0) == (number == ""):
		return nil, ErrInvalidQuery
	case q.ContractID > 0:
		recs, err = l.records.ByContract(ctx, q.ContractID)
	default:
		recs, err = l.records.ByEmployee(ctx, number)
	}
	if err != nil {
		return nil, fmt.Errorf("reading archive records: %w", err)
	}
	sort.SliceStable(recs, func(i, j int) bool {
		if !recs[i].ArchivedAt.Equal(recs[j].ArchivedAt) {
			return recs[i].ArchivedAt.Before(recs[j].ArchivedAt)
		}
		return recs[i].Key.String() < recs[j].Key.String()
	})
	return recs, nil
}
