package flexhrm

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"syscall"
)

// Check makes the cheap authenticated call the model prescribes at start-up
// (GET /companies?pageSize=1) and, when it fails, says which of API root,
// customer number or credentials is wrong whenever that can be told:
//
//   - ErrBadAPIRoot: unknown host, nothing listening, TLS failure, a redirect,
//     404/405, or a success answer that is not a JSON list;
//   - ErrUnknownCustomerNumber (also ErrUnauthorized): the Instance is refused;
//   - ErrUnauthorized: username or password refused;
//   - ErrForbidden: the API user may not list companies;
//   - ErrUnavailable / ErrRateLimited: Flex HRM is there but not answering well.
func (c *Client) Check(ctx context.Context) error {
	const op = "start-up check"
	path, err := expand(c.paths.ListCompanies, vars{"pageSize": "1"})
	if err != nil {
		return invalidInput(op, err)
	}
	resp, err := c.send(ctx, request{op: op, method: http.MethodGet, path: path, idempotent: true})
	if err != nil {
		return c.explainCheck(err)
	}
	if _, _, err := decodeList[Company](resp.body); err != nil {
		return &checkError{root: c.rootForHumans, msg: "the API root answers, but not with Flex HRM's JSON (is the root missing /api?)", errs: []error{ErrBadAPIRoot, err}}
	}
	return nil
}

// checkError is a failed start-up check with its diagnosis.
type checkError struct {
	root string
	msg  string
	errs []error
}

func (e *checkError) Error() string {
	s := "flexhrm: start-up check against " + e.root + ": " + e.msg
	if len(e.errs) > 1 {
		s += " (" + e.errs[len(e.errs)-1].Error() + ")"
	}
	return s
}

func (e *checkError) Unwrap() []error { return e.errs }

func (c *Client) explainCheck(err error) error {
	fail := func(msg string, kinds ...error) error {
		return &checkError{root: c.rootForHumans, msg: msg, errs: append(kinds, err)}
	}
	var te *TransportError
	if errors.As(err, &te) {
		var dns *net.DNSError
		var (
			unknownAuthority x509.UnknownAuthorityError
			hostname         x509.HostnameError
			verification     *tls.CertificateVerificationError
			record           tls.RecordHeaderError
		)
		switch {
		case errors.As(te.Err, &dns) && dns.IsNotFound:
			return fail("the API root's host does not exist (DNS)", ErrBadAPIRoot)
		case errors.Is(te.Err, syscall.ECONNREFUSED):
			return fail("nothing accepts connections at the API root", ErrBadAPIRoot)
		case errors.As(te.Err, &unknownAuthority), errors.As(te.Err, &hostname),
			errors.As(te.Err, &verification), errors.As(te.Err, &record):
			return fail("TLS with the API root failed (wrong scheme or host?)", ErrBadAPIRoot)
		case errors.Is(te.Err, errAttemptTimeout):
			return fail("the API root did not answer in time")
		}
		return fail("Flex HRM could not be reached")
	}
	var ae *APIError
	if !errors.As(err, &ae) {
		return err // the caller's context ended
	}
	switch {
	case ae.Status >= 300 && ae.Status < 400:
		return fail("the API root redirects elsewhere; configure the final API root", ErrBadAPIRoot)
	case ae.Status == http.StatusNotFound, ae.Status == http.StatusMethodNotAllowed:
		return fail("the API root does not serve Flex HRM's companies list (wrong path?)", ErrBadAPIRoot)
	case errors.Is(ae, ErrUnknownCustomerNumber):
		return fail("Flex HRM does not know the customer number in the credentials")
	case errors.Is(ae, ErrUnauthorized):
		return fail("Flex HRM rejected the username or password in the credentials")
	case errors.Is(ae, ErrForbidden):
		return fail("the credentials work, but the API user may not list companies")
	case errors.Is(ae, ErrRateLimited):
		return fail("Flex HRM is rate limiting flexflow")
	case errors.Is(ae, ErrUnavailable):
		return fail("Flex HRM answers with server errors")
	}
	return fail("Flex HRM refused the call")
}
