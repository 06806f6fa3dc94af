package edge_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/flexflow/flexflow/gateway/internal/edge"
	contractsyncv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/contractsync/v1"
	documentarchivev1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/documentarchive/v1"
	employeedirectoryv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/employeedirectory/v1"
)

// backend is a real gRPC server on loopback that records what the edge
// forwarded and answers what a test sets.
type backend struct {
	contractsyncv1.UnimplementedContractSyncServiceServer
	employeedirectoryv1.UnimplementedEmployeeDirectoryServiceServer
	documentarchivev1.UnimplementedDocumentArchiveServiceServer

	mu       sync.Mutex
	webhooks []*contractsyncv1.ReceiveOneflowWebhookRequest
	md       metadata.MD
	err      error
	dup      bool
}

func (b *backend) ReceiveOneflowWebhook(ctx context.Context, req *contractsyncv1.ReceiveOneflowWebhookRequest) (*contractsyncv1.ReceiveOneflowWebhookResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.md, _ = metadata.FromIncomingContext(ctx)
	if b.err != nil {
		return nil, b.err
	}
	b.webhooks = append(b.webhooks, req)
	return &contractsyncv1.ReceiveOneflowWebhookResponse{Duplicate: b.dup}, nil
}

func (b *backend) GetEmployee(ctx context.Context, req *employeedirectoryv1.GetEmployeeRequest) (*employeedirectoryv1.GetEmployeeResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.md, _ = metadata.FromIncomingContext(ctx)
	if b.err != nil {
		return nil, b.err
	}
	return &employeedirectoryv1.GetEmployeeResponse{Employee: &employeedirectoryv1.Employee{EmployeeNumber: req.GetEmployeeNumber(), FirstName: "Anna"}}, nil
}

func (b *backend) stored() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.webhooks)
}

type fixture struct {
	url     string
	backend *backend
	health  *health.Server
}

func start(t *testing.T) *fixture {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &backend{}
	srv := grpc.NewServer()
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	contractsyncv1.RegisterContractSyncServiceServer(srv, b)
	employeedirectoryv1.RegisterEmployeeDirectoryServiceServer(srv, b)
	documentarchivev1.RegisterDocumentArchiveServiceServer(srv, b)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)

	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	h, err := edge.New(context.Background(), edge.Options{
		Backends: edge.Backends{EmployeeDirectory: conn, ContractSync: conn, DocumentArchive: conn},
		Logger:   slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return &fixture{url: ts.URL, backend: b, health: hs}
}

const validWebhook = `{"contract":{"id":4711},"callback_id":"cb-1","signature":"abc",
 "events":[{"id":998877,"type":"contract:sign","created_time":"2026-05-02T10:15:30+00:00"}],
 "new_attribute_oneflow_added":{"nested":[1,2,3]}}`

func post(t *testing.T, url, contentType, body string) (*http.Response, edge.ErrorBody) {
	t.Helper()
	resp, err := http.Post(url, contentType, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var eb edge.ErrorBody
	if resp.StatusCode != http.StatusOK {
		if err := json.Unmarshal(raw, &eb); err != nil {
			t.Fatalf("error body is not in the edge's shape: %q", raw)
		}
	}
	return resp, eb
}

func TestWebhookRequestsAtTheEdge(t *testing.T) {
	f := start(t)
	hook := f.url + "/v1/webhooks/oneflow"
	tests := []struct {
		name        string
		contentType string
		body        string
		wantStatus  int
		wantStored  bool
		wantMessage string
	}{
		{"oneflow_body_with_unknown_attributes_is_accepted_with_exactly_200", "application/json", validWebhook, 200, true, ""},
		{"charset_parameter_is_fine", "application/json; charset=utf-8", validWebhook, 200, true, ""},
		{"malformed_json_is_400_with_a_short_reason", "application/json", `{"contract":`, 400, false, "malformed JSON"},
		{"body_over_one_mebibyte_is_413", "application/json", `{"callback_id":"` + strings.Repeat("x", 1<<20) + `"}`, 413, false, "1 MiB"},
		{"wrong_content_type_is_415", "text/plain", validWebhook, 415, false, "application/json"},
		{"invalid_utf8_is_400", "application/json", "{\"callback_id\":\"\xff\xfe\"}", 400, false, "UTF-8"},
		{"trailing_garbage_after_the_object_is_400", "application/json", validWebhook + ` {"x":1}`, 400, false, "malformed JSON"},
		{"empty_body_is_400", "application/json", ``, 400, false, "malformed JSON"},
		{"deeply_nested_json_is_400", "application/json", strings.Repeat("[", 20000) + strings.Repeat("]", 20000), 400, false, "malformed JSON"},
		{"contract_id_of_another_type_is_400_without_echoing_it", "application/json", `{"contract":{"id":"secret-value"},"callback_id":"x"}`, 400, false, "malformed JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.backend.stored()
			resp, eb := post(t, hook, tt.contentType, tt.body)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status = %d (%+v), want %d", resp.StatusCode, eb, tt.wantStatus)
			}
			if got := f.backend.stored() > before; got != tt.wantStored {
				t.Fatalf("forwarded = %v, want %v", got, tt.wantStored)
			}
			if !strings.Contains(eb.Error.Message, tt.wantMessage) {
				t.Fatalf("message %q does not contain %q", eb.Error.Message, tt.wantMessage)
			}
			if strings.Contains(eb.Error.Message, "secret-value") {
				t.Fatalf("message echoes the caller's value: %q", eb.Error.Message)
			}
			if eb.Error.HTTPStatus != 0 && eb.Error.HTTPStatus != resp.StatusCode {
				t.Fatalf("http_status %d differs from the response's %d", eb.Error.HTTPStatus, resp.StatusCode)
			}
		})
	}
}

func TestWebhookIsDecodedAsOneflowSendsIt(t *testing.T) {
	f := start(t)
	resp, _ := post(t, f.url+"/v1/webhooks/oneflow", "application/json", validWebhook)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	f.backend.mu.Lock()
	got := f.backend.webhooks[len(f.backend.webhooks)-1]
	f.backend.mu.Unlock()
	if got.GetContract().GetId() != 4711 || got.GetCallbackId() != "cb-1" || got.GetSignature() != "abc" {
		t.Fatalf("decoded %v", got)
	}
	if len(got.GetEvents()) != 1 || got.GetEvents()[0].GetType() != "contract:sign" || got.GetEvents()[0].GetId() != 998877 {
		t.Fatalf("events %v", got.GetEvents())
	}
}

// The webhook route has its own handler: its answers must be what
// grpc-gateway's route gave (the response message as JSON with every field,
// Content-Type application/json), it sends no caller header to the backend,
// and other methods on its path still get the routing answer in the one shape.
func TestTheWebhookRouteAnswersAsTheGeneratedRouteDid(t *testing.T) {
	f := start(t)
	for _, dup := range []bool{false, true} {
		f.backend.mu.Lock()
		f.backend.dup = dup
		f.backend.mu.Unlock()
		req, _ := http.NewRequest(http.MethodPost, f.url+edge.WebhookPath, strings.NewReader(validWebhook))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer not-for-the-webhook-route")
		req.Header.Set("Cookie", "session=abc")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := fmt.Sprintf(`{"duplicate":%v}`, dup)
		if resp.StatusCode != 200 || strings.ReplaceAll(string(body), " ", "") != want || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("duplicate=%v: %d %q %q, want 200 %s application/json", dup, resp.StatusCode, body, resp.Header.Get("Content-Type"), want)
		}
		f.backend.mu.Lock()
		md := f.backend.md
		f.backend.mu.Unlock()
		for k := range md {
			if k == "authorization" || strings.Contains(k, "cookie") || strings.HasPrefix(k, "x-forwarded") {
				t.Fatalf("the webhook route sent %q to the backend", k)
			}
		}
	}
	for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		req, _ := http.NewRequest(method, f.url+edge.WebhookPath, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var eb edge.ErrorBody
		err = json.NewDecoder(resp.Body).Decode(&eb)
		resp.Body.Close()
		if err != nil || (resp.StatusCode != 404 && resp.StatusCode != 405) || eb.Error.HTTPStatus != resp.StatusCode {
			t.Fatalf("%s %s: %d %+v %v", method, edge.WebhookPath, resp.StatusCode, eb, err)
		}
	}
}

func TestBackendStatusesBecomeHTTPStatusesInOneShape(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantCode   string
		wantMsg    string
	}{
		{"unauthenticated_is_401", status.Error(codes.Unauthenticated, "invalid webhook signature"), 401, "UNAUTHENTICATED", "invalid webhook signature"},
		{"permission_denied_is_403", status.Error(codes.PermissionDenied, "token not valid here"), 403, "PERMISSION_DENIED", "token not valid here"},
		{"not_found_is_404", status.Error(codes.NotFound, "employee not found"), 404, "NOT_FOUND", "employee not found"},
		{"resource_exhausted_is_429", status.Error(codes.ResourceExhausted, "rate limited"), 429, "RESOURCE_EXHAUSTED", "rate limited"},
		{"unavailable_is_503", status.Error(codes.Unavailable, "Flex HRM unavailable"), 503, "UNAVAILABLE", "Flex HRM unavailable"},
		{"internal_details_are_not_relayed", status.Error(codes.Internal, "panic at foo.go:12"), 500, "INTERNAL", "internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := start(t)
			f.backend.err = tt.err
			resp, eb := post(t, f.url+"/v1/webhooks/oneflow", "application/json", validWebhook)
			if resp.StatusCode != tt.wantStatus || eb.Error.Code != tt.wantCode || eb.Error.Message != tt.wantMsg {
				t.Fatalf("got %d %+v, want %d %s %q", resp.StatusCode, eb, tt.wantStatus, tt.wantCode, tt.wantMsg)
			}
		})
	}
}

func TestBearerTokenIsPassedThroughAndOtherHeadersAreNot(t *testing.T) {
	f := start(t)
	req, _ := http.NewRequest(http.MethodGet, f.url+"/v1/employees/1001", nil)
	req.Header.Set("Authorization", "Bearer employee-token-123456")
	req.Header.Set("Cookie", "session=abc")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	f.backend.mu.Lock()
	md := f.backend.md
	f.backend.mu.Unlock()
	if got := md.Get("authorization"); len(got) != 1 || got[0] != "Bearer employee-token-123456" {
		t.Fatalf("authorization metadata = %v", got)
	}
	for k := range md {
		if strings.Contains(strings.ToLower(k), "cookie") {
			t.Fatalf("cookie forwarded as %q", k)
		}
	}
}

func TestOpenAPIDocumentIsServed(t *testing.T) {
	f := start(t)
	resp, err := http.Get(f.url + edge.OpenAPIPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Paths map[string]any `json:"paths"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/v1/webhooks/oneflow", "/v1/employees/{employee_number}", "/v1/contracts/{contract_id}/sync", "/v1/failures", "/v1/documents"} {
		if _, ok := doc.Paths[p]; !ok {
			t.Errorf("OpenAPI lacks %s", p)
		}
	}
}

func TestHealthzFollowsTheBackendsGRPCHealth(t *testing.T) {
	f := start(t)
	get := func() int {
		resp, err := http.Get(f.url + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := get(); got != 200 {
		t.Fatalf("healthy backends: %d", got)
	}
	f.health.SetServingStatus("", healthpb.HealthCheckResponse_NOT_SERVING)
	if got := get(); got != 503 {
		t.Fatalf("unhealthy backend: %d", got)
	}
	resp, err := http.Get(f.url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Fatalf("/readyz with contract-sync not serving: %d", resp.StatusCode)
	}
}

func TestUnknownRouteIs404InTheSameShape(t *testing.T) {
	f := start(t)
	resp, err := http.Get(f.url + "/v2/nothing")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var eb edge.ErrorBody
	if err := json.NewDecoder(resp.Body).Decode(&eb); err != nil || resp.StatusCode != 404 || eb.Error.Code != "NOT_FOUND" {
		t.Fatalf("got %d %+v %v", resp.StatusCode, eb, err)
	}
}

func TestDecodeErrorReasonsNeverEchoTheInput(t *testing.T) {
	f := start(t)
	tests := []struct{ name, body string }{
		{"unquoted_token", `{"contract":{"id":4711}, HOSTILE-secret-token}`},
		{"quoted_value_of_the_wrong_type", `{"contract":{"id":"HOSTILE-secret-token"}}`},
		{"trailing_token", `{"callback_id":"x"} HOSTILE-secret-token`},
		{"bad_escape", `{"callback_id":"\qHOSTILE-secret-token"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, eb := post(t, f.url+"/v1/webhooks/oneflow", "application/json", tt.body)
			if resp.StatusCode != 400 || !strings.HasPrefix(eb.Error.Message, "malformed JSON") {
				t.Fatalf("got %d %q", resp.StatusCode, eb.Error.Message)
			}
			if strings.Contains(eb.Error.Message, "HOSTILE") || strings.Contains(eb.Error.Message, "secret") {
				t.Fatalf("reason echoes the input: %q", eb.Error.Message)
			}
		})
	}
}
