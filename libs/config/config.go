// Package config loads a service's typed configuration from environment
// variables and stops it at start, naming the variable, when a setting is
// missing or invalid.
//
// Fields are declared with github.com/caarlos0/env/v11 tags (env,
// envDefault, envPrefix, required, notEmpty). flexflow adds one tag:
// `secret:"true"` marks a secret. A secret X may instead be given as X_FILE,
// the path of a file holding it (trimmed of surrounding white space), as
// Kubernetes secrets are mounted; setting both is an error. Errors never show
// a secret's value.
//
// The types ListenAddr, URL, Tokens and Base64 validate while parsing, so a
// struct says what it accepts:
//
//	type Config struct {
//		Addr   config.ListenAddr `env:"EMPLOYEE_DIRECTORY_ADDR" envDefault:"127.0.0.1:9091"`
//		Tokens config.Tokens     `env:"EMPLOYEE_DIRECTORY_TOKENS,required" secret:"true"`
//	}
//	var cfg Config
//	if err := config.Load(&cfg); err != nil { ... }
package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"

	"github.com/caarlos0/env/v11"
)

// FileSuffix is appended to a secret variable's name to give it as a file.
const FileSuffix = "_FILE"

// VarError reports a problem with one variable. Its message never contains
// a secret value.
type VarError struct {
	// Var is the environment variable's name (or X and X_FILE together).
	Var string
	// Reason says what is wrong, e.g. `invalid listen address "x"`.
	Reason string
	err    error // the underlying error, kept only for non-secret variables
}

func (e *VarError) Error() string { return "config: " + e.Var + ": " + e.Reason }

// Unwrap returns the underlying error, if it was safe to keep.
func (e *VarError) Unwrap() error { return e.err }

// Option adjusts Load.
type Option func(*loadOptions)

type loadOptions struct {
	environ map[string]string
}

// WithEnvironment makes Load read from env instead of the process
// environment, so tests can run in parallel.
func WithEnvironment(env map[string]string) Option {
	return func(o *loadOptions) { o.environ = env }
}

// Load fills dst, a pointer to a struct, from the environment. It reports all
// problems at once, joined, each as a *VarError.
func Load(dst any, opts ...Option) error {
	o := loadOptions{}
	for _, opt := range opts {
		opt(&o)
	}
	environ := o.environ
	if environ == nil {
		environ = env.ToMap(os.Environ())
	}
	v := reflect.ValueOf(dst)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return errors.New("config: Load needs a non-nil pointer to a struct")
	}
	fields, err := collectFields(v.Elem().Type(), "")
	if err != nil {
		return err
	}

	resolved, errs := resolveFiles(fields, environ)
	if len(errs) > 0 {
		return errors.Join(errs...)
	}

	if err := env.ParseWithOptions(dst, env.Options{Environment: resolved}); err != nil {
		return translate(err, fields, resolved)
	}
	return nil
}

// field is one leaf of the configuration struct, in the order env walks it.
type field struct {
	key    string
	name   string
	typ    reflect.Type
	secret bool
}

// collectFields mirrors env's traversal (declaration order, nested structs
// with envPrefix) to learn each variable's name and whether it is secret.
func collectFields(t reflect.Type, prefix string) ([]field, error) {
	var out []field
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("env")
		key, _, _ := strings.Cut(tag, ",")
		if key == "-" {
			continue
		}
		ft := sf.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if key == "" {
			if ft.Kind() == reflect.Struct {
				nested, err := collectFields(ft, prefix+sf.Tag.Get("envPrefix"))
				if err != nil {
					return nil, err
				}
				out = append(out, nested...)
			}
			continue
		}
		secret := false
		switch s := sf.Tag.Get("secret"); s {
		case "", "false":
		case "true":
			secret = true
		default:
			return nil, fmt.Errorf("config: field %s: secret tag must be \"true\" or \"false\", not %q", sf.Name, s)
		}
		out = append(out, field{key: prefix + key, name: sf.Name, typ: sf.Type, secret: secret})
	}
	return out, nil
}

// resolveFiles returns a copy of environ in which each secret X given as
// X_FILE holds the file's trimmed contents.
func resolveFiles(fields []field, environ map[string]string) (map[string]string, []error) {
	resolved := make(map[string]string, len(environ))
	for k, v := range environ {
		resolved[k] = v
	}
	var errs []error
	for _, f := range fields {
		if !f.secret {
			continue
		}
		fileKey := f.key + FileSuffix
		path := environ[fileKey]
		if path == "" {
			continue
		}
		if environ[f.key] != "" {
			errs = append(errs, &VarError{Var: f.key + " and " + fileKey, Reason: "both are set; set only one"})
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			// The path is not secret; the error names it and why it failed.
			errs = append(errs, &VarError{Var: fileKey, Reason: fmt.Sprintf("cannot read secret file: %v", err), err: err})
			continue
		}
		resolved[f.key] = strings.TrimSpace(string(b))
	}
	return resolved, errs
}

// translate turns env's errors into VarErrors that name the variable and
// keep secrets out.
func translate(err error, fields []field, environ map[string]string) error {
	var agg env.AggregateError
	if !errors.As(err, &agg) {
		return fmt.Errorf("config: %w", err)
	}
	byKey := map[string]field{}
	for _, f := range fields {
		byKey[f.key] = f
	}
	var out []error
	next := 0 // env reports errors in field order; match parse errors in order
	for _, e := range agg.Errors {
		var (
			notSet  env.VarIsNotSetError
			empty   env.EmptyVarError
			parse   env.ParseError
			noParse env.NoParserError
		)
		switch {
		case errors.As(e, &notSet):
			reason := "required but not set"
			if byKey[notSet.Key].secret {
				reason = "required but not set (set it or " + notSet.Key + FileSuffix + ")"
			}
			out = append(out, &VarError{Var: notSet.Key, Reason: reason})
		case errors.As(e, &empty):
			out = append(out, &VarError{Var: empty.Key, Reason: "must not be empty"})
		case errors.As(e, &parse):
			f, ok := findField(fields, &next, parse.Name, parse.Type)
			if !ok {
				out = append(out, &VarError{Var: parse.Name, Reason: "invalid value"})
				continue
			}
			out = append(out, parseVarError(f, environ[f.key], parse.Err))
		case errors.As(e, &noParse):
			out = append(out, fmt.Errorf("config: field %s: type %s is not supported", noParse.Name, noParse.Type))
		default:
			out = append(out, fmt.Errorf("config: %w", e))
		}
	}
	return errors.Join(out...)
}

// findField returns the first field at or after *next with this struct
// field name and type, and moves *next past it.
func findField(fields []field, next *int, name string, typ reflect.Type) (field, bool) {
	for i := *next; i < len(fields); i++ {
		if fields[i].name == name && fields[i].typ == typ {
			*next = i + 1
			return fields[i], true
		}
	}
	return field{}, false
}

func parseVarError(f field, raw string, err error) *VarError {
	var invalid *invalidValueError
	switch {
	case f.secret:
		reason := "invalid value (not shown, it is secret)"
		if errors.As(err, &invalid) && invalid.safe {
			reason = invalid.msg
		}
		return &VarError{Var: f.key, Reason: reason}
	case errors.As(err, &invalid):
		return &VarError{Var: f.key, Reason: invalid.msg, err: err}
	default:
		return &VarError{Var: f.key, Reason: fmt.Sprintf("cannot parse %q as %s", raw, typeName(f.typ)), err: err}
	}
}

func typeName(t reflect.Type) string {
	if t.String() == "time.Duration" {
		return "a duration (e.g. 30s, 5m)"
	}
	return t.String()
}

// invalidValueError is returned by this package's types; safe means the
// message shows no part of the value and may be used for secrets too.
type invalidValueError struct {
	msg  string
	safe bool
}

func (e *invalidValueError) Error() string { return e.msg }

// Names lists the variables dst reads, sorted, with X_FILE alternatives for
// secrets; useful for a --help text or a README table check.
func Names(dst any) ([]string, error) {
	v := reflect.TypeOf(dst)
	if v == nil || v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return nil, errors.New("config: Names needs a pointer to a struct")
	}
	fields, err := collectFields(v.Elem(), "")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, f := range fields {
		names = append(names, f.key)
		if f.secret {
			names = append(names, f.key+FileSuffix)
		}
	}
	sort.Strings(names)
	return names, nil
}
