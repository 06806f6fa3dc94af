package flexhrm_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flexflow/flexflow/libs/flexhrm"
)

// otherShapes imitates a Flex HRM that answers in the shapes the spec's
// Tolerance section allows instead of the model's: bare arrays, "data" and
// "Items" envelopes, PascalCase properties, ProblemDetails and 409 errors,
// 204 on PUT, dates with Z and fractions.
type otherShapes struct {
	mu      sync.Mutex
	puts    []map[string]any
	queries []string
}

func (o *otherShapes) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	o.queries = append(o.queries, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery)
	o.mu.Unlock()
	json200 := func(body string) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, body)
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/companies":
		json200(`[{"Id":"c1","CompanyNumber":"1","Name":"Bolaget AB","OrganizationNumber":"556000-0001"},{"Id":"c2","CompanyNumber":"2","Name":"Andra AB"}]`)
	case r.Method == http.MethodGet && r.URL.Path == "/employees":
		json200(`{"data":[
			{"Id":"e1","CompanyId":"c1","FirstName":"Anna","LastName":"L","Name":"Anna L","EmailWork":"a@example.se","Employment":[{"EmploymentNumber":"1001"}],"CostCentre":"K1"},
			{"Id":"e2","CompanyId":"c2","FirstName":"Per","LastName":"P","Name":"Per P","Employment":[{"EmploymentNumber":"10011"}]}]}`)
	case r.Method == http.MethodGet && r.URL.Path == "/employees/e1":
		json200(`{"Id":"e1","CompanyId":"c1","FirstName":"Anna","LastName":"L","Name":"Anna L","EmailWork":"a@example.se","Employment":[{"EmploymentNumber":"1001"}],"CostCentre":"K1"}`)
	case r.Method == http.MethodPut && r.URL.Path == "/employees/e1":
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		o.mu.Lock()
		o.puts = append(o.puts, body)
		o.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodGet && r.URL.Path == "/employmentperiods":
		json200(`{"Items":[
			{"Id":"p1","CompanyId":"c1","EmployeeId":"e1","FromDate":"2020-01-01T00:00:00Z","ToDate":"2021-12-31T00:00:00.0000000"},
			{"Id":"p2","CompanyId":"c1","EmployeeId":"e1","FromDate":"2022-01-01","ToDate":null}],"TotalCount":2}`)
	case r.Method == http.MethodPost && r.URL.Path == "/employmentperiods":
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusConflict)
		_, _ = io.WriteString(w, `{"Message":"Anställningsperioden överlappar en befintlig period"}`)
	case r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/employmentperiods/"):
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"type":"https://tools.ietf.org/html/rfc7231#section-6.5.1","title":"One or more validation errors occurred.","status":400,"detail":"Period overlaps another period"}`)
	case r.Method == http.MethodGet && r.URL.Path == "/documentcategories":
		// A "data" envelope without totalCount, paged for real: 150 items.
		index, _ := strconv.Atoi(r.URL.Query().Get("pageIndex"))
		size, _ := strconv.Atoi(r.URL.Query().Get("pageSize"))
		var items []string
		for i := index * size; i < min(150, (index+1)*size); i++ {
			items = append(items, fmt.Sprintf(`{"ID":"k%03d","CompanyID":"c1","NAME":"Kategori %d","UsedInEmploymentRegister":true}`, i, i))
		}
		json200(`{"data":[` + strings.Join(items, ",") + `]}`)
	case r.Method == http.MethodGet && r.URL.Path == "/employmenttitles":
		// Ignores active=true and paging: the client filters.
		json200(`[{"id":"t1","name":"Aktiv","active":true},{"id":"t2","name":"Gammal","active":false}]`)
	case r.Method == http.MethodGet && r.URL.Path == "/employmentdocuments":
		json200(`{"items":[{"id":"d1","employeeId":"e1","title":"x.pdf","contentLength":10,"created":"2024-05-01T10:15:30.123"}],"totalCount":1}`)
	default:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"detail":"nothing here"}`)
	}
}

func TestClientToleratesTheShapesTheSpecAllows(t *testing.T) {
	shapes := &otherShapes{}
	ts := httptest.NewServer(shapes)
	t.Cleanup(ts.Close)
	c, err := flexhrm.New(flexhrm.Options{APIRoot: ts.URL, Credentials: flexhrm.Credentials{CustomerNumber: "1", Username: "u", Password: "p"}, Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()

	t.Run("bare_array_with_pascal_case", func(t *testing.T) {
		companies, err := c.ListCompanies(ctx)
		if err != nil || len(companies) != 2 || companies[0].ID != "c1" || companies[0].OrganizationNumber != "556000-0001" {
			t.Fatalf("companies = %+v, %v", companies, err)
		}
	})
	t.Run("data_envelope_and_loose_matching_filtered_by_employment_number", func(t *testing.T) {
		e, err := c.FindEmployee(ctx, "1001", "")
		if err != nil || e.ID != "e1" || e.EmailWork != "a@example.se" {
			t.Fatalf("FindEmployee = %+v, %v", e, err)
		}
	})
	t.Run("items_envelope_with_z_fractions_and_plain_dates", func(t *testing.T) {
		periods, err := c.ListEmploymentPeriods(ctx, "e1")
		if err != nil || len(periods) != 2 {
			t.Fatalf("periods = %+v, %v", periods, err)
		}
		if periods[0].FromDate != flexhrm.NewDate(2020, 1, 1) || *periods[0].ToDate != flexhrm.NewDate(2021, 12, 31) || periods[1].ToDate != nil {
			t.Fatalf("dates read wrong: %+v", periods)
		}
		current, _ := flexhrm.CurrentPeriod(periods, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
		if current.ID != "p2" {
			t.Fatalf("current = %s", current.ID)
		}
	})
	t.Run("overlap_by_swedish_message_on_409", func(t *testing.T) {
		_, err := c.CreateEmploymentPeriod(ctx, flexhrm.EmploymentPeriod{CompanyID: "c1", EmployeeID: "e1", InstanceID: "i", FromDate: flexhrm.NewDate(2023, 1, 1)})
		if !errors.Is(err, flexhrm.ErrOverlappingDates) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("overlap_by_problem_details_detail", func(t *testing.T) {
		_, err := c.UpdateEmploymentPeriod(ctx, flexhrm.EmploymentPeriod{ID: "p1", CompanyID: "c1", EmployeeID: "e1", InstanceID: "i", FromDate: flexhrm.NewDate(2023, 1, 1)})
		var apiErr *flexhrm.APIError
		if !errors.Is(err, flexhrm.ErrOverlappingDates) || !errors.As(err, &apiErr) || apiErr.Message != "Period overlaps another period" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("put_answered_204_is_read_back_and_keeps_unknown_properties", func(t *testing.T) {
		e, err := c.GetEmployee(ctx, "e1")
		if err != nil {
			t.Fatal(err)
		}
		e.City = "Lund"
		got, err := c.UpdateEmployee(ctx, e)
		if err != nil || got.ID != "e1" {
			t.Fatalf("UpdateEmployee = %+v, %v", got, err)
		}
		shapes.mu.Lock()
		put := shapes.puts[len(shapes.puts)-1]
		shapes.mu.Unlock()
		if put["city"] != "Lund" || put["CostCentre"] != "K1" || put["firstName"] != "Anna" {
			t.Fatalf("PUT body = %v", put)
		}
		if _, pascal := put["FirstName"]; pascal {
			t.Fatalf("PUT sent both spellings: %v", put)
		}
	})
	t.Run("data_envelope_without_count_is_paged_to_the_end", func(t *testing.T) {
		cats, err := c.ListDocumentCategories(ctx, "c1")
		if err != nil || len(cats) != 150 || cats[149].ID != "k149" || !cats[0].UsedInEmploymentRegister {
			t.Fatalf("categories = %d, %v", len(cats), err)
		}
	})
	t.Run("active_titles_filtered_when_the_server_ignores_the_filter", func(t *testing.T) {
		titles, err := c.ListEmploymentTitles(ctx, "c1", true)
		if err != nil || len(titles) != 1 || titles[0].ID != "t1" {
			t.Fatalf("titles = %+v, %v", titles, err)
		}
	})
	t.Run("created_without_zone_and_with_fraction", func(t *testing.T) {
		docs, err := c.ListEmploymentDocuments(ctx, "c1", "e1", "")
		if err != nil || len(docs) != 1 || docs[0].Created.Year() != 2024 {
			t.Fatalf("docs = %+v, %v", docs, err)
		}
	})
	t.Run("not_found_with_detail_only", func(t *testing.T) {
		_, err := c.GetCompany(ctx, "c9")
		var apiErr *flexhrm.APIError
		if !errors.Is(err, flexhrm.ErrNotFound) || !errors.As(err, &apiErr) || apiErr.Message != "nothing here" {
			t.Fatalf("err = %v", err)
		}
	})
}
