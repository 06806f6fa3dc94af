package adapters

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/flexflow/flexflow/libs/flexhrm"
	"github.com/flexflow/flexflow/services/document-archive/internal/app"
	"github.com/flexflow/flexflow/services/document-archive/internal/domain"
)

// FlexHRMClient is the part of libs/flexhrm's client this adapter uses.
type FlexHRMClient interface {
	GetEmployee(ctx context.Context, id string) (flexhrm.Employee, error)
	FindEmployee(ctx context.Context, employmentNumber, companyID string) (flexhrm.Employee, error)
	GetCompany(ctx context.Context, id string) (flexhrm.Company, error)
	ListDocumentCategories(ctx context.Context, companyID string) ([]flexhrm.DocumentCategory, error)
	ListEmploymentDocuments(ctx context.Context, companyID, employeeID, categoryID string) ([]flexhrm.Document, error)
	UploadEmployeeDocument(ctx context.Context, req flexhrm.UploadRequest) (flexhrm.Document, error)
}

// FlexHRM reads employees and categories and uploads documents through
// libs/flexhrm.
type FlexHRM struct {
	client FlexHRMClient
}

// NewFlexHRM wraps a Flex HRM client.
func NewFlexHRM(client FlexHRMClient) (*FlexHRM, error) {
	if client == nil {
		return nil, errors.New("adapters: Flex HRM client is nil")
	}
	return &FlexHRM{client: client}, nil
}

// Employee reads the employee's company and display name.
func (f *FlexHRM) Employee(ctx context.Context, employeeID string) (app.Employee, error) {
	e, err := f.client.GetEmployee(ctx, employeeID)
	if err != nil {
		return app.Employee{}, flexError("the employee", err)
	}
	return toEmployee(e), nil
}

// FindEmployee finds the one employee with the employment number.
func (f *FlexHRM) FindEmployee(ctx context.Context, employeeNumber string) (app.Employee, error) {
	e, err := f.client.FindEmployee(ctx, employeeNumber, "")
	var ambiguous *flexhrm.AmbiguousEmployeeError
	if errors.As(err, &ambiguous) {
		names := make([]string, len(ambiguous.Companies))
		for i, c := range ambiguous.Companies {
			names[i] = c.String()
		}
		return app.Employee{}, app.Permanent(fmt.Sprintf("the contract's employee number matches employees in %d companies (%s)", len(names), strings.Join(names, ", ")), err)
	}
	if err != nil {
		return app.Employee{}, flexError("the contract's employee", err)
	}
	return toEmployee(e), nil
}

func toEmployee(e flexhrm.Employee) app.Employee {
	name := strings.TrimSpace(e.Name)
	if name == "" {
		name = strings.TrimSpace(strings.TrimSpace(e.FirstName) + " " + strings.TrimSpace(e.LastName))
	}
	return app.Employee{ID: e.ID, CompanyID: e.CompanyID, Name: name}
}

// OneflowCategory chooses the company's Oneflow category by the spec's rule
// (flexhrm.ChooseOneflowCategory); none answers a permanent error naming
// the company, so an HR admin knows where to create it.
func (f *FlexHRM) OneflowCategory(ctx context.Context, companyID string) (app.Category, error) {
	cats, err := f.client.ListDocumentCategories(ctx, companyID)
	if err != nil {
		return app.Category{}, flexError("the company's document categories", err)
	}
	c, err := flexhrm.ChooseOneflowCategory(cats)
	if errors.Is(err, flexhrm.ErrNoOneflowCategory) {
		company := "with id " + companyID
		if co, cerr := f.client.GetCompany(ctx, companyID); cerr == nil {
			switch {
			case strings.TrimSpace(co.Name) != "":
				company = strings.TrimSpace(co.Name)
			case strings.TrimSpace(co.CompanyNumber) != "":
				company = strings.TrimSpace(co.CompanyNumber)
			}
		}
		reason := fmt.Sprintf("no Oneflow document category in company %s", company)
		if strings.Contains(err.Error(), "not in the register") {
			reason += " used in the employment register"
		}
		return app.Category{}, app.Permanent(reason+`; create a category whose name starts with "Oneflow", used in the employment register, then replay`, err)
	}
	if err != nil {
		return app.Category{}, flexError("the company's document categories", err)
	}
	return app.Category{ID: c.ID, Name: c.Name}, nil
}

// Documents lists the employee's documents in the category. It filters
// again on its side in case a Flex HRM version ignores the filters.
func (f *FlexHRM) Documents(ctx context.Context, companyID, employeeID, categoryID string) ([]domain.FlexDocument, error) {
	docs, err := f.client.ListEmploymentDocuments(ctx, companyID, employeeID, categoryID)
	if err != nil {
		return nil, flexError("the employee's documents", err)
	}
	out := make([]domain.FlexDocument, 0, len(docs))
	for _, d := range docs {
		if (d.EmployeeID != "" && d.EmployeeID != employeeID) || (d.DocumentCategoryID != "" && d.DocumentCategoryID != categoryID) {
			continue
		}
		out = append(out, domain.FlexDocument{ID: d.ID, Title: d.Title, CategoryID: d.DocumentCategoryID, SizeBytes: d.ContentLength})
	}
	return out, nil
}

// UploadDocument streams body into Flex HRM's multipart upload. The client
// never retries it; the archiver looks before it writes again.
func (f *FlexHRM) UploadDocument(ctx context.Context, u app.Upload, body io.Reader) (domain.FlexDocument, error) {
	d, err := f.client.UploadEmployeeDocument(ctx, flexhrm.UploadRequest{EmployeeID: u.EmployeeID, CategoryID: u.CategoryID, Title: u.Title, PDF: body, Size: max(u.Size, -1)})
	if errors.Is(err, flexhrm.ErrUnexpectedResponse) {
		// Flex HRM said yes in a way the client could not read: the document
		// is probably stored, and the retry's look-first finds it.
		return domain.FlexDocument{}, err
	}
	if err != nil {
		return domain.FlexDocument{}, flexError("the upload", err)
	}
	return domain.FlexDocument{ID: d.ID, Title: d.Title, CategoryID: d.DocumentCategoryID, SizeBytes: d.ContentLength}, nil
}

// flexError sorts Flex HRM's failures into permanent ones, with a reason
// that says what is wrong, and transient ones.
func flexError(what string, err error) error {
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, flexhrm.ErrUnavailable), errors.Is(err, flexhrm.ErrRateLimited):
		return err // the client's text already names the call and the status
	case errors.Is(err, flexhrm.ErrUnknownCustomerNumber):
		return app.Permanent("Flex HRM does not know flexflow's customer number (FLEXHRM_CREDENTIALS)", err)
	case errors.Is(err, flexhrm.ErrUnauthorized):
		return app.Permanent("Flex HRM rejected flexflow's credentials", err)
	case errors.Is(err, flexhrm.ErrForbidden):
		return app.Permanent(fmt.Sprintf("Flex HRM's API user may not access %s (403)", what), err)
	case errors.Is(err, flexhrm.ErrNotFound):
		return app.Permanent(fmt.Sprintf("%s was not found in Flex HRM", what), err)
	case errors.Is(err, flexhrm.ErrPayloadTooLarge):
		return app.Permanent(fmt.Sprintf("Flex HRM refused the PDF as larger than %d MiB", flexhrm.MaxUploadBytes>>20), err)
	case errors.Is(err, flexhrm.ErrNameTooLong):
		return app.Permanent("Flex HRM refused the document title as too long", err)
	case errors.Is(err, flexhrm.ErrUnsupportedMediaType):
		return app.Permanent("Flex HRM refused the file as not application/pdf", err)
	case errors.Is(err, flexhrm.ErrCategoryNotInEmploymentRegister):
		return app.Permanent("the Oneflow document category is not used in the employment register", err)
	case errors.Is(err, flexhrm.ErrValidation), errors.Is(err, flexhrm.ErrBadAPIRoot), errors.Is(err, flexhrm.ErrUnexpectedResponse):
		return app.Permanent(fmt.Sprintf("Flex HRM refused %s", what), err)
	}
	return err
}
