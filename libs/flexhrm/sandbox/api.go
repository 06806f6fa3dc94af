package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/flexflow/flexflow/libs/flexhrm"
)

type handlerFunc func(s *Server, w http.ResponseWriter, r *http.Request, param string)

// route is what a method and path resolve to.
type route struct {
	id     string // P1..P11, "" when nothing matched
	handle handlerFunc
	param  string   // the {id} segment
	allow  []string // methods of a matched path, for 405
}

// resolve is the model's path table (see ../paths.go for the client's).
func resolve(method, rel string) route {
	segs := strings.Split(strings.TrimPrefix(rel, "/"), "/")
	type entry struct {
		id     string
		handle handlerFunc
	}
	var table map[string]entry
	param := ""
	switch {
	case len(segs) == 1:
		switch segs[0] {
		case "employees":
			table = map[string]entry{http.MethodGet: {"P1", (*Server).listEmployees}}
		case "employmentperiods":
			table = map[string]entry{http.MethodGet: {"P4", (*Server).listPeriods}, http.MethodPost: {"P5", (*Server).createPeriod}}
		case "employmenttitles":
			table = map[string]entry{http.MethodGet: {"P7", (*Server).listTitles}}
		case "companies":
			table = map[string]entry{http.MethodGet: {"P8", (*Server).listCompanies}}
		case "documentcategories":
			table = map[string]entry{http.MethodGet: {"P9", (*Server).listCategories}}
		case "employeedocuments":
			table = map[string]entry{http.MethodPost: {"P10", (*Server).uploadDocument}}
		case "employmentdocuments":
			table = map[string]entry{http.MethodGet: {"P11", (*Server).listDocuments}}
		}
	case len(segs) == 2 && segs[1] != "":
		param = segs[1]
		switch segs[0] {
		case "employees":
			table = map[string]entry{http.MethodGet: {"P2", (*Server).getEmployee}, http.MethodPut: {"P3", (*Server).putEmployee}}
		case "employmentperiods":
			table = map[string]entry{http.MethodPut: {"P6", (*Server).putPeriod}}
		case "employmenttitles":
			table = map[string]entry{http.MethodGet: {"P7", (*Server).getTitle}}
		case "companies":
			table = map[string]entry{http.MethodGet: {"P8", (*Server).getCompany}}
		}
	}
	if table == nil {
		return route{}
	}
	if e, ok := table[method]; ok {
		return route{id: e.id, handle: e.handle, param: param}
	}
	var allow []string
	for m := range table {
		allow = append(allow, m)
	}
	slices.Sort(allow)
	return route{allow: allow}
}

// P1 (and the gap's list of employees).
func (s *Server) listEmployees(w http.ResponseWriter, r *http.Request, _ string) {
	q := parseQuery(r, "employmentnumber", "companyId", "pageIndex", "pageSize")
	number := q.get("employmentnumber")
	companyID := q.uuid("companyId", false)
	pg := q.paging()
	if len(q.errs) > 0 {
		validationFailed(w, r, q.errs)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if companyID != "" {
		if _, status := s.st.company(companyID); status != 0 {
			statusError(w, r, status, "Company")
			return
		}
	}
	var out []Employee
	for _, e := range s.st.employees {
		if !s.st.accessible(e.CompanyID) || (companyID != "" && !strings.EqualFold(e.CompanyID, companyID)) {
			continue
		}
		if number != "" && !slices.ContainsFunc(e.Employment, func(x Employment) bool { return x.EmploymentNumber == number }) {
			continue
		}
		out = append(out, copyEmployee(*e))
	}
	writeJSON(w, http.StatusOK, pageOf(out, pg))
}

// P2.
func (s *Server) getEmployee(w http.ResponseWriter, r *http.Request, id string) {
	if !isUUID(id) {
		statusError(w, r, http.StatusNotFound, "Employee")
		return
	}
	if q := parseQuery(r); len(q.errs) > 0 {
		validationFailed(w, r, q.errs)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, status := s.st.employee(id)
	if status != 0 {
		statusError(w, r, status, "Employee")
		return
	}
	writeJSON(w, http.StatusOK, copyEmployee(*e))
}

// employeeInput is a PUT body: every property of the model is known (the
// read-only ones are accepted and ignored), anything else is refused.
type employeeInput struct {
	ID                           *string `json:"id"`
	InstanceID                   *string `json:"instanceId"`
	CompanyID                    *string `json:"companyId"`
	FirstName                    *string `json:"firstName"`
	LastName                     *string `json:"lastName"`
	Name                         *string `json:"name"`
	NationalIdentificationNumber *string `json:"nationalIdentificationNumber"`
	AddressRow1                  *string `json:"addressRow1"`
	AddressRow2                  *string `json:"addressRow2"`
	PostalCode                   *string `json:"postalCode"`
	City                         *string `json:"city"`
	Country                      *string `json:"country"`
	EmailWork                    *string `json:"emailWork"`
	EmailPrivate                 *string `json:"emailPrivate"`
	Phone1                       *string `json:"phone1"`
	Phone2                       *string `json:"phone2"`
	Phone3                       *string `json:"phone3"`
	Phone4                       *string `json:"phone4"`
	ImmediateManagerEmployeeID   *string `json:"immediateManagerEmployeeId"`
	Employment                   any     `json:"employment"`
}

// P3: PUT replaces the writable properties; missing ones become null.
func (s *Server) putEmployee(w http.ResponseWriter, r *http.Request, id string) {
	if !isUUID(id) {
		statusError(w, r, http.StatusNotFound, "Employee")
		return
	}
	if q := parseQuery(r); len(q.errs) > 0 {
		validationFailed(w, r, q.errs)
		return
	}
	var in employeeInput
	if !decodeBody(w, r, &in) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, status := s.st.employee(id)
	if status != 0 {
		statusError(w, r, status, "Employee")
		return
	}
	errs := fieldErrors{}
	if in.ID != nil && *in.ID != "" && !strings.EqualFold(*in.ID, id) {
		errs.add("id", "Does not match the id in the path.")
	}
	if n := str(in.NationalIdentificationNumber); n != "" {
		if err := flexhrm.ValidatePersonnummer(n); err != nil {
			errs.add("nationalIdentificationNumber", "Not a valid personnummer or samordningsnummer.")
		}
	}
	if len(errs) > 0 {
		validationFailed(w, r, errs)
		return
	}
	e.FirstName, e.LastName = in.FirstName, in.LastName
	e.NationalIdentificationNumber = in.NationalIdentificationNumber
	e.AddressRow1, e.AddressRow2 = in.AddressRow1, in.AddressRow2
	e.PostalCode, e.City, e.Country = in.PostalCode, in.City, in.Country
	e.EmailWork, e.EmailPrivate = in.EmailWork, in.EmailPrivate
	e.Phone1, e.Phone2, e.Phone3, e.Phone4 = in.Phone1, in.Phone2, in.Phone3, in.Phone4
	e.Name = fullName(*e)
	writeJSON(w, http.StatusOK, copyEmployee(*e))
}

// P4.
func (s *Server) listPeriods(w http.ResponseWriter, r *http.Request, _ string) {
	q := parseQuery(r, "employeeId", "pageIndex", "pageSize")
	employeeID := q.uuid("employeeId", true)
	pg := q.paging()
	if len(q.errs) > 0 {
		validationFailed(w, r, q.errs)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, status := s.st.employee(employeeID); status != 0 {
		statusError(w, r, status, "Employee")
		return
	}
	var out []EmploymentPeriod
	for _, p := range s.st.periods {
		if strings.EqualFold(p.EmployeeID, employeeID) {
			out = append(out, copyPeriod(*p))
		}
	}
	slices.SortStableFunc(out, func(a, b EmploymentPeriod) int { return a.FromDate.Compare(b.FromDate) })
	writeJSON(w, http.StatusOK, pageOf(out, pg))
}

// periodInput is a P5/P6 body, read strictly.
type periodInput struct {
	ID               *string `json:"id"`
	CompanyID        *string `json:"companyId"`
	EmployeeID       *string `json:"employeeId"`
	InstanceID       *string `json:"instanceId"`
	FromDate         *string `json:"fromDate"`
	ToDate           *string `json:"toDate"`
	TitleID          *string `json:"titleId"`
	EmploymentTypeID *string `json:"employmentTypeId"`
}

// validPeriod checks a body against the model and returns the period, or the
// status, code and field errors to answer. Called with s.mu held.
func (s *Server) validPeriod(in periodInput) (EmploymentPeriod, int, string, fieldErrors) {
	errs := fieldErrors{}
	required := func(name string, v *string) string {
		if str(v) == "" {
			errs.add(name, "The field is required.")
		} else if !isUUID(*v) {
			errs.add(name, "Not a valid id.")
		}
		return str(v)
	}
	p := EmploymentPeriod{
		CompanyID:  required("companyId", in.CompanyID),
		EmployeeID: required("employeeId", in.EmployeeID),
		InstanceID: required("instanceId", in.InstanceID),
	}
	if p.InstanceID != "" && isUUID(p.InstanceID) && !strings.EqualFold(p.InstanceID, s.st.instanceID) {
		errs.add("instanceId", "Not this instance.")
	}
	if str(in.FromDate) == "" {
		errs.add("fromDate", "The field is required.")
	} else if d, ok := strictDate(*in.FromDate); !ok {
		errs.add("fromDate", "Not a date.")
	} else {
		p.FromDate = d
	}
	if str(in.ToDate) != "" {
		if d, ok := strictDate(*in.ToDate); !ok {
			errs.add("toDate", "Not a date.")
		} else {
			p.ToDate = &d
		}
	}
	for name, v := range map[string]*string{"titleId": in.TitleID, "employmentTypeId": in.EmploymentTypeID} {
		if str(v) != "" && !isUUID(*v) {
			errs.add(name, "Not a valid id.")
		}
	}
	if len(errs) > 0 {
		return p, http.StatusBadRequest, flexhrm.CodeValidationFailed, errs
	}
	if _, status := s.st.company(p.CompanyID); status == http.StatusForbidden {
		return p, status, flexhrm.CodeForbidden, nil
	} else if status != 0 {
		errs.add("companyId", "No such company.")
	}
	if e, status := s.st.employee(p.EmployeeID); status != 0 || !strings.EqualFold(e.CompanyID, p.CompanyID) {
		errs.add("employeeId", "No such employee in the company.")
	}
	if t := str(in.TitleID); t != "" {
		if title, status := s.st.title(t); status != 0 || !strings.EqualFold(title.CompanyID, p.CompanyID) {
			errs.add("titleId", "No such title in the company.")
		}
		v := t
		p.TitleID = &v
	}
	if t := str(in.EmploymentTypeID); t != "" {
		v := t
		p.EmploymentTypeID = &v
	}
	if p.ToDate != nil && p.ToDate.Before(p.FromDate) {
		errs.add("toDate", "Must not be before fromDate.")
	}
	if len(errs) > 0 {
		return p, http.StatusBadRequest, flexhrm.CodeValidationFailed, errs
	}
	return p, 0, "", nil
}

// P5.
func (s *Server) createPeriod(w http.ResponseWriter, r *http.Request, _ string) {
	if q := parseQuery(r); len(q.errs) > 0 {
		validationFailed(w, r, q.errs)
		return
	}
	var in periodInput
	if !decodeBody(w, r, &in) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, status, code, errs := s.validPeriod(in)
	if status != 0 {
		s.refusePeriod(w, r, status, code, errs)
		return
	}
	if s.st.overlapping(p) {
		writeError(w, r, http.StatusBadRequest, flexhrm.CodeOverlappingDates, "The period overlaps another employment period of the employee.", nil)
		return
	}
	p.ID = uuid.NewString()
	s.st.periods = append(s.st.periods, &p)
	w.Header().Set("Location", "/api/employmentperiods/"+p.ID)
	writeJSON(w, http.StatusCreated, copyPeriod(p))
}

func (s *Server) refusePeriod(w http.ResponseWriter, r *http.Request, status int, code string, errs fieldErrors) {
	if status == http.StatusForbidden {
		statusError(w, r, status, "Company")
		return
	}
	writeError(w, r, status, code, "One or more fields are invalid.", errs)
}

// P6.
func (s *Server) putPeriod(w http.ResponseWriter, r *http.Request, id string) {
	if !isUUID(id) {
		statusError(w, r, http.StatusNotFound, "Employment period")
		return
	}
	if q := parseQuery(r); len(q.errs) > 0 {
		validationFailed(w, r, q.errs)
		return
	}
	var in periodInput
	if !decodeBody(w, r, &in) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	stored, status := s.st.period(id)
	if status != 0 {
		statusError(w, r, status, "Employment period")
		return
	}
	p, status, code, errs := s.validPeriod(in)
	if status != 0 {
		s.refusePeriod(w, r, status, code, errs)
		return
	}
	errs = fieldErrors{}
	if in.ID != nil && *in.ID != "" && !strings.EqualFold(*in.ID, id) {
		errs.add("id", "Does not match the id in the path.")
	}
	if !strings.EqualFold(p.CompanyID, stored.CompanyID) {
		errs.add("companyId", "A period cannot move to another company.")
	}
	if !strings.EqualFold(p.EmployeeID, stored.EmployeeID) {
		errs.add("employeeId", "A period cannot move to another employee.")
	}
	if len(errs) > 0 {
		validationFailed(w, r, errs)
		return
	}
	p.ID = stored.ID
	if s.st.overlapping(p) {
		writeError(w, r, http.StatusBadRequest, flexhrm.CodeOverlappingDates, "The period overlaps another employment period of the employee.", nil)
		return
	}
	*stored = p
	writeJSON(w, http.StatusOK, copyPeriod(p))
}

// P7 list.
func (s *Server) listTitles(w http.ResponseWriter, r *http.Request, _ string) {
	q := parseQuery(r, "companyId", "active", "pageIndex", "pageSize")
	companyID := q.uuid("companyId", true)
	active := q.get("active")
	if active != "" && active != "true" && active != "false" {
		q.errs.add("active", "Must be true or false.")
	}
	pg := q.paging()
	if len(q.errs) > 0 {
		validationFailed(w, r, q.errs)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, status := s.st.company(companyID); status != 0 {
		statusError(w, r, status, "Company")
		return
	}
	var out []EmploymentTitle
	for _, t := range s.st.titles {
		if !strings.EqualFold(t.CompanyID, companyID) {
			continue
		}
		if (active == "true" && !t.Active) || (active == "false" && t.Active) {
			continue
		}
		out = append(out, t)
	}
	writeJSON(w, http.StatusOK, pageOf(out, pg))
}

// P7 one.
func (s *Server) getTitle(w http.ResponseWriter, r *http.Request, id string) {
	if !isUUID(id) {
		statusError(w, r, http.StatusNotFound, "Employment title")
		return
	}
	if q := parseQuery(r); len(q.errs) > 0 {
		validationFailed(w, r, q.errs)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, status := s.st.title(id)
	if status != 0 {
		statusError(w, r, status, "Employment title")
		return
	}
	writeJSON(w, http.StatusOK, t)
}

// P8 list.
func (s *Server) listCompanies(w http.ResponseWriter, r *http.Request, _ string) {
	q := parseQuery(r, "pageIndex", "pageSize")
	pg := q.paging()
	if len(q.errs) > 0 {
		validationFailed(w, r, q.errs)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Company
	for _, c := range s.st.companies {
		if !c.Inaccessible {
			out = append(out, c.Company)
		}
	}
	writeJSON(w, http.StatusOK, pageOf(out, pg))
}

// P8 one.
func (s *Server) getCompany(w http.ResponseWriter, r *http.Request, id string) {
	if !isUUID(id) {
		statusError(w, r, http.StatusNotFound, "Company")
		return
	}
	if q := parseQuery(r); len(q.errs) > 0 {
		validationFailed(w, r, q.errs)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, status := s.st.company(id)
	if status != 0 {
		statusError(w, r, status, "Company")
		return
	}
	writeJSON(w, http.StatusOK, c.Company)
}

// P9.
func (s *Server) listCategories(w http.ResponseWriter, r *http.Request, _ string) {
	q := parseQuery(r, "companyId", "pageIndex", "pageSize")
	companyID := q.uuid("companyId", true)
	pg := q.paging()
	if len(q.errs) > 0 {
		validationFailed(w, r, q.errs)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, status := s.st.company(companyID); status != 0 {
		statusError(w, r, status, "Company")
		return
	}
	var out []DocumentCategory
	for _, c := range s.st.categories {
		if strings.EqualFold(c.CompanyID, companyID) {
			out = append(out, c)
		}
	}
	writeJSON(w, http.StatusOK, pageOf(out, pg))
}

// P11.
func (s *Server) listDocuments(w http.ResponseWriter, r *http.Request, _ string) {
	q := parseQuery(r, "companyId", "employeeId", "documentCategoryId", "pageIndex", "pageSize")
	companyID := q.uuid("companyId", true)
	employeeID := q.uuid("employeeId", false)
	categoryID := q.uuid("documentCategoryId", false)
	pg := q.paging()
	if len(q.errs) > 0 {
		validationFailed(w, r, q.errs)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, status := s.st.company(companyID); status != 0 {
		statusError(w, r, status, "Company")
		return
	}
	var out []Document
	for _, d := range s.st.documents {
		if !strings.EqualFold(d.CompanyID, companyID) ||
			(employeeID != "" && !strings.EqualFold(d.EmployeeID, employeeID)) ||
			(categoryID != "" && !strings.EqualFold(d.DocumentCategoryID, categoryID)) {
			continue
		}
		out = append(out, d.Document)
	}
	writeJSON(w, http.StatusOK, pageOf(out, pg))
}

// P10: the query is checked first, then the employee, the category and the
// title; only then is the multipart body streamed, hashed and counted
// (never buffered beyond what WithDocumentContent asks to keep).
func (s *Server) uploadDocument(w http.ResponseWriter, r *http.Request, _ string) {
	q := parseQuery(r, "employeeId", "documentCategoryId", "title")
	employeeID := q.uuid("employeeId", true)
	categoryID := q.uuid("documentCategoryId", true)
	title := q.get("title")
	if title == "" {
		q.errs.add("title", "The parameter is required.")
	} else if !utf8.ValidString(title) {
		q.errs.add("title", "Not valid UTF-8.")
	}
	if len(q.errs) > 0 {
		validationFailed(w, r, q.errs)
		return
	}

	s.mu.Lock()
	e, status := s.st.employee(employeeID)
	if status != 0 {
		s.mu.Unlock()
		statusError(w, r, status, "Employee")
		return
	}
	companyID := e.CompanyID
	cat, ok := s.st.category(categoryID)
	s.mu.Unlock()
	if !ok || !strings.EqualFold(cat.CompanyID, companyID) {
		validationFailed(w, r, fieldErrors{"documentCategoryId": {"No such category in the employee's company."}})
		return
	}
	if !cat.UsedInEmploymentRegister {
		writeError(w, r, http.StatusBadRequest, flexhrm.CodeCategoryNotUsedInEmploymentRegister, "The document category is not used in the employment register.", nil)
		return
	}
	if utf8.RuneCountInString(title) > flexhrm.MaxDocumentTitleLength {
		writeError(w, r, http.StatusBadRequest, flexhrm.CodeDocumentNameTooLong, "The document name is longer than 200 characters.", nil)
		return
	}

	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		writeError(w, r, http.StatusUnsupportedMediaType, flexhrm.CodeUnsupportedMediaType, "The upload must be multipart/form-data with an application/pdf part named file.", nil)
		return
	}
	// The multipart frame adds well under 64 KiB; a body announced bigger is
	// refused before it is read.
	if r.ContentLength > flexhrm.MaxUploadBytes+64<<10 {
		writeError(w, r, http.StatusRequestEntityTooLarge, flexhrm.CodePayloadTooLarge, "The document is larger than 25 MiB.", nil)
		return
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	var (
		found    bool
		fileName string
		size     int64
		sum      string
		content  []byte
	)
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			validationFailed(w, r, fieldErrors{"file": {"The multipart body is malformed."}})
			return
		}
		if part.FormName() != "file" {
			_, _ = io.Copy(io.Discard, part)
			continue
		}
		if found {
			validationFailed(w, r, fieldErrors{"file": {"Send one file."}})
			return
		}
		found = true
		if pt, _, err := mime.ParseMediaType(part.Header.Get("Content-Type")); err != nil || pt != "application/pdf" {
			writeError(w, r, http.StatusUnsupportedMediaType, flexhrm.CodeUnsupportedMediaType, "The file must be application/pdf.", nil)
			return
		}
		if _, dp, err := mime.ParseMediaType(part.Header.Get("Content-Disposition")); err == nil {
			fileName = dp["filename"]
		}
		h := sha256.New()
		sink := io.Writer(h)
		var kept strings.Builder
		if s.opts.keepContent {
			sink = io.MultiWriter(h, &kept)
		}
		n, err := io.Copy(sink, io.LimitReader(part, flexhrm.MaxUploadBytes+1))
		if err != nil {
			validationFailed(w, r, fieldErrors{"file": {"The file could not be read."}})
			return
		}
		if n > flexhrm.MaxUploadBytes {
			writeError(w, r, http.StatusRequestEntityTooLarge, flexhrm.CodePayloadTooLarge, "The document is larger than 25 MiB.", nil)
			return
		}
		size, sum = n, hex.EncodeToString(h.Sum(nil))
		if s.opts.keepContent {
			content = []byte(kept.String())
		}
	}
	if !found {
		validationFailed(w, r, fieldErrors{"file": {"A part named file is required."}})
		return
	}
	if fileName == "" {
		fileName = title
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if _, status := s.st.employee(employeeID); status != 0 {
		statusError(w, r, status, "Employee")
		return
	}
	doc := StoredDocument{
		Document: Document{
			ID: uuid.NewString(), EmployeeID: e.ID, CompanyID: companyID, DocumentCategoryID: cat.ID,
			Title: title, FileName: fileName, ContentType: "application/pdf", ContentLength: size,
			Created: s.opts.now().UTC().Truncate(time.Second),
		},
		SHA256: sum,
		Size:   size,
	}
	s.st.documents = append(s.st.documents, doc)
	if s.opts.keepContent {
		s.st.contents[doc.ID] = content
	}
	writeJSON(w, http.StatusCreated, doc.Document)
}
