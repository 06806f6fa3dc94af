package service

import (
	"errors"
	"fmt"
	"time"

	"github.com/flexflow/flexflow/libs/config"
	"github.com/flexflow/flexflow/libs/flexhrm"
)

// Config is employee-directory's configuration. Every field with an env tag
// is read by Load; a missing or invalid one stops the service at start,
// naming the variable. Secrets may be given as <NAME>_FILE instead.
type Config struct {
	// Addr is where the gRPC server listens; "127.0.0.1:0" picks a free port
	// (see Service.Addr).
	Addr config.ListenAddr `env:"EMPLOYEE_DIRECTORY_ADDR" envDefault:"127.0.0.1:9091"`

	// FlexHRMAPIRoot is Flex HRM's API root, e.g. https://api.flexhrm.com/api.
	FlexHRMAPIRoot config.URL `env:"FLEXHRM_API_ROOT,required"`
	// FlexHRMCredentials is base64 of customer_number:username:password.
	FlexHRMCredentials string `env:"FLEXHRM_CREDENTIALS,required" secret:"true"`

	// Tokens are the bearer tokens callers present ("employee" kind).
	Tokens config.Tokens `env:"EMPLOYEE_DIRECTORY_TOKENS,required" secret:"true"`
	// OperatorTokens, when set, are recognised only to tell a caller that an
	// operator token is the wrong kind here (PermissionDenied rather than
	// Unauthenticated); they grant nothing.
	OperatorTokens config.Tokens `env:"OPERATOR_TOKENS" secret:"true"`

	// EmployeeCacheTTL is how long a GetEmployee answer may be served again;
	// 0 disables the cache. Writes always read fresh and drop it.
	EmployeeCacheTTL time.Duration `env:"EMPLOYEE_CACHE_TTL" envDefault:"3s"`
	// ReferenceCacheTTL is how long titles and companies are kept.
	ReferenceCacheTTL time.Duration `env:"EMPLOYEE_DIRECTORY_REFERENCE_CACHE_TTL" envDefault:"1m"`

	// FlexHRMRequestTimeout bounds one HTTP attempt to Flex HRM.
	FlexHRMRequestTimeout time.Duration `env:"FLEXHRM_REQUEST_TIMEOUT" envDefault:"10s"`
	// FlexHRMRetryBudget bounds the time one read spends retrying 429, 502,
	// 503, 504 and network errors (writes are never retried). Callers such
	// as contract-sync retry for hours on top; this only smooths blips.
	FlexHRMRetryBudget time.Duration `env:"FLEXHRM_RETRY_BUDGET" envDefault:"15s"`
	// FlexHRMRetryInitial is the first wait between read attempts.
	FlexHRMRetryInitial time.Duration `env:"FLEXHRM_RETRY_INITIAL" envDefault:"250ms"`
	// FlexHRMCheckInterval is how often the start-up check is retried while
	// it fails; health stays NOT_SERVING until it passes.
	FlexHRMCheckInterval time.Duration `env:"FLEXHRM_CHECK_INTERVAL" envDefault:"15s"`

	// NATSURL, when set, links this service's Flex HRM pacing with
	// document-archive's: each tells the other of every 429 over core NATS,
	// since Flex HRM limits the account both use. Empty: the service paces
	// alone. NATS being down never stops it serving.
	NATSURL string `env:"NATS_URL"`

	// ShutdownTimeout bounds the graceful drain of in-flight calls.
	ShutdownTimeout time.Duration `env:"EMPLOYEE_DIRECTORY_SHUTDOWN_TIMEOUT" envDefault:"10s"`
}

// Load reads Config from the process environment, or from env when it is
// not nil (tests), and validates it.
func Load(env map[string]string) (Config, error) {
	var cfg Config
	var opts []config.Option
	if env != nil {
		opts = append(opts, config.WithEnvironment(env))
	}
	if err := config.Load(&cfg, opts...); err != nil {
		return Config{}, err
	}
	return cfg, cfg.Validate()
}

// Validate reports every setting that cannot work, each naming its
// variable. Start calls it, so a Config built in code is checked too.
func (c Config) Validate() error {
	var errs []error
	check := func(ok bool, name, reason string) {
		if !ok {
			errs = append(errs, fmt.Errorf("config: %s: %s", name, reason))
		}
	}
	check(config.ValidateListenAddr(c.Addr.String()) == nil, "EMPLOYEE_DIRECTORY_ADDR", "must be host:port")
	check(c.FlexHRMAPIRoot.URL != nil, "FLEXHRM_API_ROOT", "is required")
	if _, err := flexhrm.ParseCredentials(c.FlexHRMCredentials); err != nil {
		// The flexhrm error never repeats the secret.
		errs = append(errs, fmt.Errorf("config: FLEXHRM_CREDENTIALS: %w", err))
	}
	check(len(c.Tokens) > 0, "EMPLOYEE_DIRECTORY_TOKENS", "needs at least one token")
	check(c.EmployeeCacheTTL >= 0, "EMPLOYEE_CACHE_TTL", "must not be negative (0 disables the cache)")
	check(c.ReferenceCacheTTL > 0, "EMPLOYEE_DIRECTORY_REFERENCE_CACHE_TTL", "must be positive")
	check(c.FlexHRMRequestTimeout > 0, "FLEXHRM_REQUEST_TIMEOUT", "must be positive")
	check(c.FlexHRMRetryBudget > 0, "FLEXHRM_RETRY_BUDGET", "must be positive")
	check(c.FlexHRMRetryInitial > 0 && c.FlexHRMRetryInitial <= c.FlexHRMRetryBudget, "FLEXHRM_RETRY_INITIAL", "must be positive and at most FLEXHRM_RETRY_BUDGET")
	check(c.FlexHRMCheckInterval > 0, "FLEXHRM_CHECK_INTERVAL", "must be positive")
	check(c.ShutdownTimeout > 0, "EMPLOYEE_DIRECTORY_SHUTDOWN_TIMEOUT", "must be positive")
	return errors.Join(errs...)
}

// SecretSink is what RegisterSecrets tells the secrets to
// (*telemetry.Redactor), so logs and spans never show them.
type SecretSink interface{ AddSecret(secret string) }

// RegisterSecrets hands every secret of the configuration to sink.
func (c Config) RegisterSecrets(sink SecretSink) {
	sink.AddSecret(c.FlexHRMCredentials)
	if creds, err := flexhrm.ParseCredentials(c.FlexHRMCredentials); err == nil {
		sink.AddSecret(creds.Password)
	}
	for _, t := range c.Tokens {
		sink.AddSecret(t)
	}
	for _, t := range c.OperatorTokens {
		sink.AddSecret(t)
	}
}
