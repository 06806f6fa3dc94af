package app

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/flexflow/flexflow/services/employee-directory/internal/domain"
)

// Page sizes of ListEmployees.
const (
	DefaultListPageSize = 20
	MaxListPageSize     = 100
)

// ListEmployeesQuery asks for one page.
type ListEmployeesQuery struct {
	// PageSize 0 means DefaultListPageSize; more than MaxListPageSize is cut.
	PageSize  int
	PageToken string
	// CompanyID limits the listing to one company; empty walks every company
	// the API user sees, in id order.
	CompanyID string
}

// EmployeePage is one page of employees. Only identity is filled (number,
// names, Flex ids): a listing is no way to bulk-read contact data.
type EmployeePage struct {
	Employees     []domain.Employee
	NextPageToken string
	TotalSize     int
}

// cursor is the state behind an opaque page token: where the next page
// starts (a company and an offset in it), for which filter, and the total
// counted when the listing began (so later pages do not count again).
type cursor struct {
	Version   int    `json:"v"`
	Filter    string `json:"f,omitempty"`
	CompanyID string `json:"c"`
	Offset    int    `json:"o"`
	Total     int    `json:"t"`
}

const cursorVersion = 1

func (c cursor) encode() string {
	b, _ := json.Marshal(c) // a struct of strings and ints always marshals
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(token, filter string) (cursor, error) {
	bad := &domain.InvalidFieldError{Field: "page_token", Reason: "is not a token this service issued"}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return cursor{}, bad
	}
	var c cursor
	if err := json.Unmarshal(raw, &c); err != nil || c.Version != cursorVersion || c.Offset < 0 || c.CompanyID == "" {
		return cursor{}, bad
	}
	if c.Filter != filter {
		return cursor{}, &domain.InvalidFieldError{Field: "page_token", Reason: "was issued for another company_id"}
	}
	return c, nil
}

// ListEmployees returns one page. Pages are filled across companies: when a
// company runs out, the page continues with the next one. The total is
// counted on the first page (concurrently, one small read per company) and
// carried in the token.
func (d *Directory) ListEmployees(ctx context.Context, q ListEmployeesQuery) (EmployeePage, error) {
	size := q.PageSize
	switch {
	case size < 0:
		return EmployeePage{}, &domain.InvalidFieldError{Field: "page_size", Reason: "must not be negative"}
	case size == 0:
		size = DefaultListPageSize
	case size > MaxListPageSize:
		size = MaxListPageSize
	}
	filter := strings.TrimSpace(q.CompanyID)

	var companyIDs []string
	if filter != "" {
		companyIDs = []string{filter}
	} else {
		companies, err := d.visibleCompanies(ctx)
		if err != nil {
			return EmployeePage{}, err
		}
		for _, c := range companies {
			companyIDs = append(companyIDs, c.ID)
		}
		slices.Sort(companyIDs)
		companyIDs = slices.Compact(companyIDs)
	}
	if len(companyIDs) == 0 {
		return EmployeePage{}, nil
	}

	cur := cursor{Version: cursorVersion, Filter: filter, CompanyID: companyIDs[0], Total: -1}
	if q.PageToken != "" {
		var err error
		if cur, err = decodeCursor(q.PageToken, filter); err != nil {
			return EmployeePage{}, err
		}
	}
	// Resume at the token's company, or at the next one if it disappeared.
	start, found := slices.BinarySearchFunc(companyIDs, cur.CompanyID, cmp.Compare[string])
	if !found {
		cur.Offset = 0
	}

	page := EmployeePage{TotalSize: cur.Total}
	var counted []int
	// One company: its first page says the total. Several: count them all.
	if cur.Total < 0 && len(companyIDs) > 1 {
		var err error
		if counted, err = d.countEmployees(ctx, companyIDs); err != nil {
			return EmployeePage{}, err
		}
		page.TotalSize = sum(counted)
	}

	for i := start; i < len(companyIDs) && len(page.Employees) < size; i++ {
		companyID := companyIDs[i]
		offset := 0
		if i == start {
			offset = cur.Offset
		}
		for len(page.Employees) < size {
			// Flex HRM pages are aligned to the page size; fetch the one
			// holding offset and skip into it.
			pageIndex, skip := offset/size, offset%size
			got, err := d.employees.ListEmployees(ctx, companyID, pageIndex, size)
			if err != nil {
				return EmployeePage{}, fmt.Errorf("list employees of company %s: %w", companyID, err)
			}
			if page.TotalSize < 0 {
				page.TotalSize = got.TotalCount
			}
			items := got.Items
			if skip >= len(items) {
				items = nil
			} else {
				items = items[skip:]
			}
			take := min(len(items), size-len(page.Employees))
			for _, p := range items[:take] {
				page.Employees = append(page.Employees, summarize(p))
			}
			offset += take
			companyDone := len(items) == 0 || (take == len(items) && len(got.Items) < size) ||
				(got.TotalCount >= 0 && offset >= got.TotalCount)
			if companyDone {
				break
			}
			if len(page.Employees) == size {
				page.NextPageToken = cursor{Version: cursorVersion, Filter: filter, CompanyID: companyID, Offset: offset, Total: page.TotalSize}.encode()
				return page, nil
			}
		}
		if len(page.Employees) == size && i+1 < len(companyIDs) {
			page.NextPageToken = cursor{Version: cursorVersion, Filter: filter, CompanyID: companyIDs[i+1], Total: page.TotalSize}.encode()
			return page, nil
		}
	}
	return page, nil
}

// countEmployees asks each company for its number of employees, concurrently.
func (d *Directory) countEmployees(ctx context.Context, companyIDs []string) ([]int, error) {
	counts := make([]int, len(companyIDs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i, id := range companyIDs {
		g.Go(func() error {
			got, err := d.employees.ListEmployees(gctx, id, 0, 1)
			if err != nil {
				return fmt.Errorf("count employees of company %s: %w", id, err)
			}
			counts[i] = max(got.TotalCount, 0)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return counts, nil
}

func sum(xs []int) int {
	total := 0
	for _, x := range xs {
		total += x
	}
	return total
}

// summarize keeps an employee's identity and drops everything else.
func summarize(p domain.Person) domain.Employee {
	full := domain.MapEmployee(domain.EmployeeSources{Person: p})
	return domain.Employee{
		EmployeeNumber: full.EmployeeNumber,
		FirstName:      full.FirstName,
		Surname:        full.Surname,
		FullName:       full.FullName,
		Flex:           domain.FlexIDs{EmployeeID: p.ID, CompanyID: p.CompanyID},
	}
}
