// Package auth is the bearer-token check every flexflow gRPC service applies
// to its callers, so that a caller bypassing the gateway meets the same rule:
// a method requires a kind of token (employee-directory's tokens, operator
// tokens) or is open; no token is Unauthenticated, a token of another kind is
// PermissionDenied. Tokens are kept only as SHA-256 digests, compared in
// constant time, and never logged or echoed.
package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"sort"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Kind names a class of callers; a method requires one kind.
type Kind string

// The kinds flexflow knows. KindOpen is explicit so that a method missing
// from a Policy is refused rather than silently open.
const (
	// KindOpen methods need no token (health, reflection, the webhook which
	// Oneflow's signature protects).
	KindOpen Kind = "open"
	// KindEmployee methods need a token from EMPLOYEE_DIRECTORY_TOKENS.
	KindEmployee Kind = "employee"
	// KindOperator methods need a token from OPERATOR_TOKENS (sync logs,
	// replay, failures, documents).
	KindOperator Kind = "operator"
)

// alwaysOpen are the method prefixes no policy can close: probes and tools
// (grpcurl, Kubernetes) must reach them without a token.
var alwaysOpen = []string{
	"/grpc.health.v1.Health/",
	"/grpc.reflection.v1.ServerReflection/",
	"/grpc.reflection.v1alpha.ServerReflection/",
}

// Errors returned by Authorize (as gRPC status errors) and by BearerToken.
var (
	// ErrMissingToken means the request carried no usable bearer token.
	ErrMissingToken = errors.New("missing bearer token")
)

// TokenSet is a set of accepted bearer tokens, held as SHA-256 digests so
// that comparison takes the same time whatever the token's length and
// content.
type TokenSet struct {
	digests [][sha256.Size]byte
}

// NewTokenSet builds a set from tokens. An empty token is refused (it would
// match a request with "Bearer " and nothing after it); duplicates are
// folded. The error never contains a token.
func NewTokenSet(tokens []string) (TokenSet, error) {
	var set TokenSet
	seen := map[[sha256.Size]byte]bool{}
	for i, tok := range tokens {
		if strings.TrimSpace(tok) == "" {
			return TokenSet{}, fmt.Errorf("auth: token %d of %d is empty", i+1, len(tokens))
		}
		d := sha256.Sum256([]byte(tok))
		if !seen[d] {
			seen[d] = true
			set.digests = append(set.digests, d)
		}
	}
	return set, nil
}

// Len is the number of distinct tokens.
func (s TokenSet) Len() int { return len(s.digests) }

// Contains reports whether token is in the set. It compares against every
// member without stopping early, so timing reveals neither which token
// matched nor how much of it.
func (s TokenSet) Contains(token string) bool {
	d := sha256.Sum256([]byte(token))
	found := 0
	for i := range s.digests {
		found |= subtle.ConstantTimeCompare(d[:], s.digests[i][:])
	}
	return found == 1
}

// Policy says which kind of token each gRPC method requires and holds the
// accepted tokens per kind. It is immutable after NewPolicy.
type Policy struct {
	methods  map[string]Kind // full method ("/pkg.Svc/Method") or service prefix ("/pkg.Svc/")
	fallback Kind            // for methods matching no entry; "" refuses them
	tokens   map[Kind]TokenSet
}

// PolicyOption adjusts a Policy.
type PolicyOption func(*Policy)

// WithDefault sets the kind required by methods that match no entry. Without
// it such methods are refused with PermissionDenied, so forgetting a new
// method in the policy fails closed.
func WithDefault(kind Kind) PolicyOption {
	return func(p *Policy) { p.fallback = kind }
}

// NewPolicy builds a policy. Keys of methods are full method names
// ("/flexflow.contractsync.v1.ContractSyncService/ReplayContract") or a
// service prefix ending in "/" that covers all its methods; an exact name
// wins over a prefix. Every kind a method requires must have a non-empty
// token set, so a misconfiguration is found at start rather than as refused
// calls.
func NewPolicy(methods map[string]Kind, tokens map[Kind]TokenSet, opts ...PolicyOption) (*Policy, error) {
	p := &Policy{methods: map[string]Kind{}, tokens: map[Kind]TokenSet{}}
	for _, o := range opts {
		o(p)
	}
	for k, set := range tokens {
		if k == KindOpen || k == "" {
			return nil, fmt.Errorf("auth: tokens given for kind %q, which needs none", k)
		}
		p.tokens[k] = set
	}
	required := map[Kind]bool{}
	for m, k := range methods {
		if !strings.HasPrefix(m, "/") {
			return nil, fmt.Errorf("auth: method %q: want a full method name like /pkg.Service/Method", m)
		}
		if k == "" {
			return nil, fmt.Errorf("auth: method %q has no kind (use auth.KindOpen for open methods)", m)
		}
		p.methods[m] = k
		required[k] = true
	}
	if p.fallback != "" {
		required[p.fallback] = true
	}
	var missing []string
	for k := range required {
		if k != KindOpen && p.tokens[k].Len() == 0 {
			missing = append(missing, string(k))
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, fmt.Errorf("auth: no tokens configured for kind(s) %s", strings.Join(missing, ", "))
	}
	return p, nil
}

// OpenPolicy returns a policy that lets every call through, for servers
// that have no authenticated methods; saying so explicitly keeps "no auth"
// a visible choice.
func OpenPolicy() *Policy {
	return &Policy{methods: map[string]Kind{}, fallback: KindOpen, tokens: map[Kind]TokenSet{}}
}

// Required returns the kind fullMethod requires; "" means the method is not
// covered by the policy and is refused.
func (p *Policy) Required(fullMethod string) Kind {
	for _, prefix := range alwaysOpen {
		if strings.HasPrefix(fullMethod, prefix) {
			return KindOpen
		}
	}
	if k, ok := p.methods[fullMethod]; ok {
		return k
	}
	if i := strings.LastIndex(fullMethod, "/"); i > 0 {
		if k, ok := p.methods[fullMethod[:i+1]]; ok {
			return k
		}
	}
	return p.fallback
}

// kindKey is the context key under which Authorize stores the caller's kind.
type kindKey struct{}

// KindFromContext returns the kind of token the caller presented, as
// Authorize recorded it; false for open methods and unauthenticated calls.
func KindFromContext(ctx context.Context) (Kind, bool) {
	k, ok := ctx.Value(kindKey{}).(Kind)
	return k, ok
}

// BearerToken returns the token from the "authorization" metadata entry
// ("Bearer <token>", scheme case-insensitive). It returns ErrMissingToken
// when there is none, several, or the value is malformed.
func BearerToken(md metadata.MD) (string, error) {
	values := md.Get("authorization")
	if len(values) != 1 {
		return "", ErrMissingToken
	}
	scheme, token, ok := strings.Cut(strings.TrimSpace(values[0]), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "bearer") || token == "" {
		return "", ErrMissingToken
	}
	return token, nil
}

// Check decides whether a call to fullMethod with metadata md may proceed,
// and returns the caller's kind. The error is a gRPC status: Unauthenticated
// for a missing, malformed or unknown token, PermissionDenied for a token of
// another kind or a method the policy does not cover. The gateway can call
// it with metadata built from an HTTP request.
func (p *Policy) Check(fullMethod string, md metadata.MD) (Kind, error) {
	required := p.Required(fullMethod)
	if required == KindOpen {
		return KindOpen, nil
	}
	if required == "" {
		return "", status.Error(codes.PermissionDenied, "method is not covered by the access policy")
	}
	token, err := BearerToken(md)
	if err != nil {
		return "", status.Error(codes.Unauthenticated, ErrMissingToken.Error())
	}
	if p.tokens[required].Contains(token) {
		return required, nil
	}
	// Check the other kinds (all of them, without stopping early) to tell a
	// token of the wrong kind from an unknown one.
	otherKind := false
	for k, set := range p.tokens {
		if k != required && set.Contains(token) {
			otherKind = true
		}
	}
	if otherKind {
		return "", status.Errorf(codes.PermissionDenied, "token does not grant %s access", required)
	}
	return "", status.Error(codes.Unauthenticated, "invalid bearer token")
}

// Authorize applies Check to the incoming metadata of ctx and returns ctx
// carrying the caller's kind (see KindFromContext).
func (p *Policy) Authorize(ctx context.Context, fullMethod string) (context.Context, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	kind, err := p.Check(fullMethod, md)
	if err != nil {
		return ctx, err
	}
	if kind == KindOpen {
		return ctx, nil
	}
	return context.WithValue(ctx, kindKey{}, kind), nil
}

// UnaryInterceptor enforces the policy on unary calls.
func (p *Policy) UnaryInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ctx, err := p.Authorize(ctx, info.FullMethod)
		if err != nil {
			return nil, err
		}
		return handler(ctx, req)
	}
}

// StreamInterceptor enforces the policy on streaming calls.
func (p *Policy) StreamInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		ctx, err := p.Authorize(ss.Context(), info.FullMethod)
		if err != nil {
			return err
		}
		return handler(srv, &contextStream{ServerStream: ss, ctx: ctx})
	}
}

// contextStream hands the handler the context Authorize produced.
type contextStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *contextStream) Context() context.Context { return s.ctx }

// BearerCredentials returns per-RPC credentials that send token as
// "authorization: Bearer <token>". They do not require transport security,
// because flexflow's services talk over plaintext loopback or a mesh that
// provides it; do not use them across an untrusted network without TLS.
func BearerCredentials(token string) BearerTokenCredentials {
	return BearerTokenCredentials{token: token}
}

// BearerTokenCredentials implements credentials.PerRPCCredentials.
type BearerTokenCredentials struct {
	token string
}

// GetRequestMetadata adds the authorization header to each call.
func (c BearerTokenCredentials) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + c.token}, nil
}

// RequireTransportSecurity is false: see BearerCredentials.
func (c BearerTokenCredentials) RequireTransportSecurity() bool { return false }

// String hides the token when the credentials are printed or logged.
func (c BearerTokenCredentials) String() string { return "Bearer [REDACTED]" }
