package flexhrm

import (
	"context"
	"errors"
)

// ListEmploymentTitles returns a company's titles (P7); with activeOnly, only
// active ones (asked of the server and checked again here).
func (c *Client) ListEmploymentTitles(ctx context.Context, companyID string, activeOnly bool) ([]EmploymentTitle, error) {
	const op = "list employment titles"
	if companyID == "" {
		return nil, invalidInput(op, errors.New("company id is empty"))
	}
	v := vars{"companyId": companyID}
	if activeOnly {
		v["active"] = "true"
	}
	titles, err := listAll[EmploymentTitle](ctx, c, op, c.paths.ListEmploymentTitles, v)
	if err != nil || !activeOnly {
		return titles, err
	}
	out := titles[:0]
	for _, t := range titles {
		if t.Active {
			out = append(out, t)
		}
	}
	return out, nil
}

// GetEmploymentTitle reads one title (P7).
func (c *Client) GetEmploymentTitle(ctx context.Context, id string) (EmploymentTitle, error) {
	return get[EmploymentTitle](ctx, c, "get employment title", c.paths.GetEmploymentTitle, vars{"id": id})
}

// ListCompanies returns every company the API user can see (P8), all pages.
func (c *Client) ListCompanies(ctx context.Context) ([]Company, error) {
	return listAll[Company](ctx, c, "list companies", c.paths.ListCompanies, vars{})
}

// GetCompany reads one company (P8).
func (c *Client) GetCompany(ctx context.Context, id string) (Company, error) {
	return get[Company](ctx, c, "get company", c.paths.GetCompany, vars{"id": id})
}

// ListDocumentCategories returns a company's document categories (P9);
// ChooseOneflowCategory picks the one flexflow uploads to.
func (c *Client) ListDocumentCategories(ctx context.Context, companyID string) ([]DocumentCategory, error) {
	const op = "list document categories"
	if companyID == "" {
		return nil, invalidInput(op, errors.New("company id is empty"))
	}
	return listAll[DocumentCategory](ctx, c, op, c.paths.ListDocumentCategories, vars{"companyId": companyID})
}
