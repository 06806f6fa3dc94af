package flexhrm_test

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flexflow/flexflow/libs/flexhrm"
	"github.com/flexflow/flexflow/libs/flexhrm/sandbox"
)

func TestCheckSaysWhatIsWrong(t *testing.T) {
	srv, url := startSandbox(t, sandbox.DefaultSeed())
	good, err := flexhrm.ParseCredentials(srv.Credentials())
	if err != nil {
		t.Fatal(err)
	}
	closed := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		return "http://" + ln.Addr().String() + "/api"
	}()
	html := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html><body>Welcome to Flex HRM</body></html>"))
	}))
	t.Cleanup(html.Close)
	var redirectedTo atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { redirectedTo.Add(1) }))
	t.Cleanup(elsewhere.Close)
	redirect := httptest.NewServer(http.RedirectHandler(elsewhere.URL+"/api/companies", http.StatusFound))
	t.Cleanup(redirect.Close)

	tests := []struct {
		name  string
		root  string
		creds flexhrm.Credentials
		setup func()
		want  []error
		not   []error
		says  string
	}{
		{"good_root_and_credentials_pass", url, good, nil, nil, nil, ""},
		{"root_without_api_is_blamed_on_the_root", strings.TrimSuffix(url, "/api"), good, nil, []error{flexhrm.ErrBadAPIRoot}, nil, "does not serve Flex HRM's companies list"},
		{"nothing_listening_is_blamed_on_the_root", closed, good, nil, []error{flexhrm.ErrBadAPIRoot, flexhrm.ErrUnavailable}, nil, "nothing accepts connections"},
		{"html_page_is_blamed_on_the_root", html.URL, good, nil, []error{flexhrm.ErrBadAPIRoot}, nil, "not with Flex HRM's JSON"},
		{"redirect_is_blamed_on_the_root_and_not_followed", redirect.URL, good, nil, []error{flexhrm.ErrBadAPIRoot}, nil, "redirects"},
		{"unknown_customer_number_is_named", url, flexhrm.Credentials{CustomerNumber: "7777", Username: good.Username, Password: good.Password}, nil,
			[]error{flexhrm.ErrUnknownCustomerNumber, flexhrm.ErrUnauthorized}, []error{flexhrm.ErrBadAPIRoot}, "does not know the customer number"},
		{"wrong_password_is_blamed_on_the_credentials", url, flexhrm.Credentials{CustomerNumber: good.CustomerNumber, Username: good.Username, Password: "nope"}, nil,
			[]error{flexhrm.ErrUnauthorized}, []error{flexhrm.ErrUnknownCustomerNumber}, "rejected the username or password"},
		{"forbidden_list_is_reported", url, good, func() { _ = srv.FailNext(sandbox.FailRule{PathID: "P8", Count: 1, Status: 403}) },
			[]error{flexhrm.ErrForbidden}, nil, "may not list companies"},
		{"server_errors_are_unavailable_not_a_wrong_root", url, good, func() { _ = srv.FailNext(sandbox.FailRule{PathID: "P8", Count: 1000, Status: 503}) },
			[]error{flexhrm.ErrUnavailable}, []error{flexhrm.ErrBadAPIRoot}, "server errors"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv.Reset()
			if tc.setup != nil {
				tc.setup()
			}
			c, err := flexhrm.New(flexhrm.Options{APIRoot: tc.root, Credentials: tc.creds,
				Retry: flexhrm.RetryPolicy{MaxElapsedTime: 100 * time.Millisecond, InitialInterval: 5 * time.Millisecond}})
			if err != nil {
				t.Fatal(err)
			}
			err = c.Check(t.Context())
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Check = %v", err)
				}
				return
			}
			for _, w := range tc.want {
				if !errors.Is(err, w) {
					t.Errorf("Check = %v, want %v", err, w)
				}
			}
			for _, n := range tc.not {
				if errors.Is(err, n) {
					t.Errorf("Check = %v, must not be %v", err, n)
				}
			}
			if err != nil && !strings.Contains(err.Error(), tc.says) {
				t.Errorf("Check = %q, want it to say %q", err, tc.says)
			}
			if err != nil && (strings.Contains(err.Error(), tc.creds.Password) || strings.Contains(err.Error(), tc.creds.Encoded())) {
				t.Errorf("Check repeats the credentials: %q", err)
			}
		})
	}
	if redirectedTo.Load() != 0 {
		t.Fatal("the client followed a redirect with its credentials")
	}
	// The check is the model's cheap call.
	srv.Reset()
	c := newClient(t, srv, url)
	if err := c.Check(t.Context()); err != nil {
		t.Fatal(err)
	}
	if reqs := srv.Requests(); len(reqs) != 1 || reqs[0].Path != "/companies" || reqs[0].Query != "pageSize=1" {
		t.Fatalf("Check sent %+v, want GET /companies?pageSize=1", reqs)
	}
}
