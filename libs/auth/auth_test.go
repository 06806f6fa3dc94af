package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/flexflow/flexflow/libs/auth"
)

const (
	employeeToken = "emp-token-0123456789abcdef"
	operatorToken = "ops-token-fedcba9876543210"
	getEmployee   = "/flexflow.employeedirectory.v1.EmployeeDirectoryService/GetEmployee"
	replay        = "/flexflow.contractsync.v1.ContractSyncService/ReplayContract"
	webhook       = "/flexflow.contractsync.v1.ContractSyncService/ReceiveOneflowWebhook"
)

func mustSet(t *testing.T, tokens ...string) auth.TokenSet {
	t.Helper()
	s, err := auth.NewTokenSet(tokens)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func testPolicy(t *testing.T) *auth.Policy {
	t.Helper()
	p, err := auth.NewPolicy(map[string]auth.Kind{
		"/flexflow.employeedirectory.v1.EmployeeDirectoryService/": auth.KindEmployee,
		"/flexflow.contractsync.v1.ContractSyncService/":           auth.KindOperator,
		webhook: auth.KindOpen,
	}, map[auth.Kind]auth.TokenSet{
		auth.KindEmployee: mustSet(t, employeeToken, "second-employee-token-xyz"),
		auth.KindOperator: mustSet(t, operatorToken),
	})
	if err != nil {
		t.Fatalf("NewPolicy: %v", err)
	}
	return p
}

func TestPolicyCheck(t *testing.T) {
	t.Parallel()
	p := testPolicy(t)
	tests := []struct {
		name          string
		method        string
		authorization []string
		wantCode      codes.Code
		wantMsg       string
		wantKind      auth.Kind
	}{
		{"employee_token_opens_employee_method", getEmployee, []string{"Bearer " + employeeToken}, codes.OK, "", auth.KindEmployee},
		{"second_employee_token_also_works", getEmployee, []string{"Bearer second-employee-token-xyz"}, codes.OK, "", auth.KindEmployee},
		{"scheme_is_case_insensitive", getEmployee, []string{"bearer " + employeeToken}, codes.OK, "", auth.KindEmployee},
		{"operator_token_opens_operator_method", replay, []string{"Bearer " + operatorToken}, codes.OK, "", auth.KindOperator},
		{"no_token_is_unauthenticated", getEmployee, nil, codes.Unauthenticated, "missing bearer token", ""},
		{"basic_auth_is_unauthenticated", getEmployee, []string{"Basic dXNlcjpwYXNz"}, codes.Unauthenticated, "missing bearer token", ""},
		{"bearer_without_token_is_unauthenticated", getEmployee, []string{"Bearer "}, codes.Unauthenticated, "missing bearer token", ""},
		{"two_authorization_headers_are_unauthenticated", getEmployee, []string{"Bearer " + employeeToken, "Bearer x"}, codes.Unauthenticated, "missing bearer token", ""},
		{"unknown_token_is_unauthenticated", getEmployee, []string{"Bearer not-a-token-at-all-000"}, codes.Unauthenticated, "invalid bearer token", ""},
		{"token_prefix_is_unauthenticated", getEmployee, []string{"Bearer " + employeeToken[:10]}, codes.Unauthenticated, "invalid bearer token", ""},
		{"operator_token_on_employee_method_is_permission_denied", getEmployee, []string{"Bearer " + operatorToken}, codes.PermissionDenied, "employee", ""},
		{"employee_token_on_operator_method_is_permission_denied", replay, []string{"Bearer " + employeeToken}, codes.PermissionDenied, "operator", ""},
		{"exact_method_entry_wins_over_service_prefix", webhook, nil, codes.OK, "", auth.KindOpen},
		{"health_is_always_open", "/grpc.health.v1.Health/Check", nil, codes.OK, "", auth.KindOpen},
		{"reflection_v1_is_always_open", "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", nil, codes.OK, "", auth.KindOpen},
		{"reflection_v1alpha_is_always_open", "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", nil, codes.OK, "", auth.KindOpen},
		{"method_outside_the_policy_is_refused", "/other.v1.Other/Do", []string{"Bearer " + operatorToken}, codes.PermissionDenied, "not covered", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			md := metadata.MD{}
			if tt.authorization != nil {
				md["authorization"] = tt.authorization
			}
			kind, err := p.Check(tt.method, md)
			if got := status.Code(err); got != tt.wantCode {
				t.Fatalf("code = %v (%v), want %v", got, err, tt.wantCode)
			}
			if tt.wantMsg != "" && !strings.Contains(status.Convert(err).Message(), tt.wantMsg) {
				t.Errorf("message = %q, want it to mention %q", status.Convert(err).Message(), tt.wantMsg)
			}
			if err != nil {
				for _, tok := range []string{employeeToken, operatorToken} {
					if strings.Contains(err.Error(), tok) {
						t.Errorf("error echoes a token: %v", err)
					}
				}
			}
			if kind != tt.wantKind {
				t.Errorf("kind = %q, want %q", kind, tt.wantKind)
			}
		})
	}
}

func TestNewPolicyRefusesMisconfiguration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		methods map[string]auth.Kind
		tokens  map[auth.Kind]auth.TokenSet
		opts    []auth.PolicyOption
		wantErr string
	}{
		{"kind_without_tokens", map[string]auth.Kind{"/a.B/C": auth.KindOperator}, nil, nil, "no tokens configured for kind(s) operator"},
		{"default_kind_without_tokens", nil, nil, []auth.PolicyOption{auth.WithDefault(auth.KindEmployee)}, "no tokens configured for kind(s) employee"},
		{"method_without_leading_slash", map[string]auth.Kind{"a.B/C": auth.KindOpen}, nil, nil, "want a full method name"},
		{"method_with_empty_kind", map[string]auth.Kind{"/a.B/C": ""}, nil, nil, "has no kind"},
		{"tokens_for_open_kind", nil, map[auth.Kind]auth.TokenSet{auth.KindOpen: {}}, nil, "needs none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := auth.NewPolicy(tt.methods, tt.tokens, tt.opts...)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("NewPolicy error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestNewTokenSetRefusesEmptyTokensWithoutEchoingOthers(t *testing.T) {
	t.Parallel()
	_, err := auth.NewTokenSet([]string{"secret-token-one-abcdef", "  "})
	if err == nil || !strings.Contains(err.Error(), "token 2 of 2 is empty") || strings.Contains(err.Error(), "secret-token") {
		t.Errorf("NewTokenSet error = %v", err)
	}
	s := mustSet(t, "a-token-abcdefghijkl", "a-token-abcdefghijkl")
	if s.Len() != 1 {
		t.Errorf("Len = %d, want duplicates folded to 1", s.Len())
	}
}

func TestDefaultKindCoversUnlistedMethods(t *testing.T) {
	t.Parallel()
	p, err := auth.NewPolicy(nil, map[auth.Kind]auth.TokenSet{auth.KindOperator: mustSet(t, operatorToken)}, auth.WithDefault(auth.KindOperator))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Check("/x.Y/Z", metadata.Pairs("authorization", "Bearer "+operatorToken)); err != nil {
		t.Errorf("default operator kind refused an operator token: %v", err)
	}
	if _, err := auth.OpenPolicy().Check("/x.Y/Z", nil); err != nil {
		t.Errorf("OpenPolicy refused a call: %v", err)
	}
}

func TestInterceptorsPassTheCallerKindToHandlers(t *testing.T) {
	t.Parallel()
	p := testPolicy(t)
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer "+operatorToken))

	var unaryKind auth.Kind
	_, err := p.UnaryInterceptor()(ctx, nil, &grpc.UnaryServerInfo{FullMethod: replay}, func(ctx context.Context, _ any) (any, error) {
		unaryKind, _ = auth.KindFromContext(ctx)
		return nil, nil
	})
	if err != nil || unaryKind != auth.KindOperator {
		t.Errorf("unary: err %v, kind %q", err, unaryKind)
	}

	var streamKind auth.Kind
	err = p.StreamInterceptor()(nil, fakeStream{ctx: ctx}, &grpc.StreamServerInfo{FullMethod: replay}, func(_ any, ss grpc.ServerStream) error {
		streamKind, _ = auth.KindFromContext(ss.Context())
		return nil
	})
	if err != nil || streamKind != auth.KindOperator {
		t.Errorf("stream: err %v, kind %q", err, streamKind)
	}

	called := false
	_, err = p.UnaryInterceptor()(context.Background(), nil, &grpc.UnaryServerInfo{FullMethod: replay}, func(context.Context, any) (any, error) {
		called = true
		return nil, nil
	})
	if status.Code(err) != codes.Unauthenticated || called {
		t.Errorf("unauthenticated call reached the handler (called=%v, err=%v)", called, err)
	}
}

type fakeStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (f fakeStream) Context() context.Context { return f.ctx }

func TestBearerCredentials(t *testing.T) {
	t.Parallel()
	c := auth.BearerCredentials(employeeToken)
	md, err := c.GetRequestMetadata(context.Background())
	if err != nil || md["authorization"] != "Bearer "+employeeToken {
		t.Errorf("metadata = %v, %v", md, err)
	}
	if c.RequireTransportSecurity() {
		t.Error("credentials must work over plaintext loopback")
	}
	if strings.Contains(c.String(), employeeToken) {
		t.Error("String() shows the token")
	}
	token, err := auth.BearerToken(metadata.New(md))
	if err != nil || token != employeeToken {
		t.Errorf("BearerToken round trip = %q, %v", token, err)
	}
	if _, err := auth.BearerToken(nil); !errors.Is(err, auth.ErrMissingToken) {
		t.Errorf("BearerToken(nil) = %v, want ErrMissingToken", err)
	}
}

func BenchmarkTokenSetContains(b *testing.B) {
	set, _ := auth.NewTokenSet([]string{employeeToken, operatorToken, "third-token-abcdefghijk"})
	for b.Loop() {
		_ = set.Contains("unknown-token-value-0000")
	}
}
