package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/flexflow/flexflow/services/employee-directory/internal/cache"
	"github.com/flexflow/flexflow/services/employee-directory/internal/domain"
)

// Deps are the Directory's collaborators; all are required.
type Deps struct {
	Employees          EmployeeRepository
	Periods            PeriodRepository
	Titles             TitleSource
	Companies          CompanySource
	ValidateNationalID NationalIDValidator
	Logger             *slog.Logger
}

// Options tune the Directory. The zero value is usable: no employee cache,
// 1-minute reference cache, "today" in UTC, the real clock.
type Options struct {
	// EmployeeCacheTTL is how long a GetEmployee result may be served again;
	// 0 disables the cache (concurrent identical reads are still collapsed).
	EmployeeCacheTTL time.Duration
	// ReferenceCacheTTL is how long titles and companies are kept; 0 means
	// DefaultReferenceCacheTTL, negative disables.
	ReferenceCacheTTL time.Duration
	// Location decides what "today" is for choosing the current period
	// (nil: UTC). Flex HRM customers are Swedish: the service passes
	// Europe/Stockholm.
	Location *time.Location
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// DefaultReferenceCacheTTL keeps titles and companies for a minute: they
// change rarely, and a new title is picked up at the latest a minute later
// (a period pointing at an unknown title refreshes at once).
const DefaultReferenceCacheTTL = time.Minute

// Directory implements the use cases. It is safe for concurrent use.
type Directory struct {
	employees EmployeeRepository
	periods   PeriodRepository
	titles    TitleSource
	companies CompanySource
	validate  NationalIDValidator
	logger    *slog.Logger
	loc       *time.Location
	now       func() time.Time

	employeeCache *cache.Cache[domain.Employee]
	titleCache    *cache.Cache[[]domain.Title]
	companyCache  *cache.Cache[[]domain.Company]
}

// New builds a Directory, refusing missing dependencies.
func New(deps Deps, opts Options) (*Directory, error) {
	var missing []error
	if deps.Employees == nil {
		missing = append(missing, errors.New("Employees"))
	}
	if deps.Periods == nil {
		missing = append(missing, errors.New("Periods"))
	}
	if deps.Titles == nil {
		missing = append(missing, errors.New("Titles"))
	}
	if deps.Companies == nil {
		missing = append(missing, errors.New("Companies"))
	}
	if deps.ValidateNationalID == nil {
		missing = append(missing, errors.New("ValidateNationalID"))
	}
	if deps.Logger == nil {
		missing = append(missing, errors.New("Logger"))
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("app: missing dependencies: %w", errors.Join(missing...))
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	refTTL := opts.ReferenceCacheTTL
	if refTTL == 0 {
		refTTL = DefaultReferenceCacheTTL
	}
	return &Directory{
		employees:     deps.Employees,
		periods:       deps.Periods,
		titles:        deps.Titles,
		companies:     deps.Companies,
		validate:      deps.ValidateNationalID,
		logger:        deps.Logger,
		loc:           opts.Location,
		now:           opts.Now,
		employeeCache: cache.New[domain.Employee](opts.EmployeeCacheTTL, opts.Now),
		titleCache:    cache.New[[]domain.Title](refTTL, opts.Now),
		companyCache:  cache.New[[]domain.Company](refTTL, opts.Now),
	}, nil
}

// today is the calendar day in the configured location.
func (d *Directory) today() domain.Date { return domain.DateOf(d.now().In(d.loc)) }

// companyTitles is every title of a company, from the cache when fresh.
func (d *Directory) companyTitles(ctx context.Context, companyID string) ([]domain.Title, error) {
	titles, _, err := d.titleCache.Get(ctx, companyID, func(ctx context.Context) ([]domain.Title, error) {
		return d.titles.ListEmploymentTitles(ctx, companyID)
	})
	if err != nil {
		return nil, fmt.Errorf("list titles of company %s: %w", companyID, err)
	}
	return titles, nil
}

// visibleCompanies is every company the API user sees, from the cache when
// fresh.
func (d *Directory) visibleCompanies(ctx context.Context) ([]domain.Company, error) {
	companies, _, err := d.companyCache.Get(ctx, "", d.companies.ListCompanies)
	if err != nil {
		return nil, fmt.Errorf("list companies: %w", err)
	}
	return companies, nil
}

// related is what an employee's mapped view needs besides the record.
type related struct {
	periods []domain.Period
	manager *domain.Person
	titles  []domain.Title
}

// gatherRelated reads, concurrently, the employee's periods, its manager and
// (unless cached) its company's titles: none depends on another, so a
// GetEmployee costs two sequential round trips (find, then these).
func (d *Directory) gatherRelated(ctx context.Context, person domain.Person, wantTitles bool) (related, error) {
	var r related
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		periods, err := d.periods.ListEmploymentPeriods(gctx, person.ID)
		if err != nil {
			return fmt.Errorf("list employment periods of employee %s: %w", person.ID, err)
		}
		r.periods = periods
		return nil
	})
	if person.ManagerID != "" {
		g.Go(func() error {
			manager, err := d.employees.GetEmployee(gctx, person.ManagerID)
			switch {
			case errors.Is(err, domain.ErrEmployeeNotFound):
				// The spec's rule: a missing manager is a warning, not a failure.
				d.logger.WarnContext(ctx, "immediate manager not found in Flex HRM; mapping the employee without one",
					"employee_id", person.ID, "manager_employee_id", person.ManagerID)
				return nil
			case err != nil:
				return fmt.Errorf("get manager %s of employee %s: %w", person.ManagerID, person.ID, err)
			}
			r.manager = &manager
			return nil
		})
	}
	if wantTitles {
		g.Go(func() error {
			titles, err := d.companyTitles(gctx, person.CompanyID)
			r.titles = titles
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return related{}, err
	}
	return r, nil
}

// mapEmployee chooses the current period of the employee's company, names
// its title and applies the mapping. A title id the cached list does not know
// may be a title created since: the list is reloaded once before giving up.
func (d *Directory) mapEmployee(ctx context.Context, employeeNumber string, person domain.Person, r related) (domain.Employee, error) {
	var own []domain.Period
	for _, p := range r.periods {
		if p.CompanyID == "" || p.CompanyID == person.CompanyID {
			own = append(own, p)
		}
	}
	src := domain.EmployeeSources{EmployeeNumber: employeeNumber, Person: person, Manager: r.manager}
	if period, ok := domain.CurrentPeriod(own, d.today()); ok {
		src.Period = &period
		if period.TitleID != "" {
			title, found := domain.TitleByID(r.titles, period.TitleID)
			if !found {
				d.titleCache.Invalidate(person.CompanyID)
				titles, err := d.companyTitles(ctx, person.CompanyID)
				if err != nil {
					return domain.Employee{}, err
				}
				title, found = domain.TitleByID(titles, period.TitleID)
			}
			if found {
				src.Title = &title
			} else {
				d.logger.WarnContext(ctx, "employment period points at a title Flex HRM does not list; position left empty",
					"employee_id", person.ID, "employment_period_id", period.ID, "title_id", period.TitleID)
			}
		}
	}
	return domain.MapEmployee(src), nil
}
