package ctl

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/flexflow/flexflow/libs/flexhrm"
	"github.com/flexflow/flexflow/libs/oneflow"
)

// Finding is one line of `flexflowctl check`.
type Finding struct {
	// Level is "ok", "warn" or "fail"; any "fail" blocks syncing.
	Level   string `json:"level"`
	Subject string `json:"subject"`
	Message string `json:"message"`
}

// secret reads NAME, or the file named by NAME_FILE.
func (o *options) secret(name string) (string, error) {
	if f := o.env.Getenv(name + "_FILE"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("%s_FILE: %w", name, err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	return strings.TrimSpace(o.env.Getenv(name)), nil
}

func (o *options) flexClient() (*flexhrm.Client, error) {
	root := o.env.Getenv("FLEXHRM_API_ROOT")
	if root == "" {
		return nil, errors.New("FLEXHRM_API_ROOT is not set")
	}
	raw, err := o.secret("FLEXHRM_CREDENTIALS")
	if err != nil {
		return nil, err
	}
	if raw == "" {
		return nil, errors.New("FLEXHRM_CREDENTIALS is not set (base64 of customer:user:password)")
	}
	creds, err := flexhrm.ParseCredentials(raw)
	if err != nil {
		return nil, fmt.Errorf("FLEXHRM_CREDENTIALS: %w", err)
	}
	return flexhrm.New(flexhrm.Options{APIRoot: root, Credentials: creds, RequestTimeout: o.timeout, Logger: o.logger(),
		Retry: flexhrm.RetryPolicy{MaxElapsedTime: 5 * time.Second}})
}

func (o *options) oneflowClient() (*oneflow.Client, error) {
	base := o.getenv("ONEFLOW_API_URL", "https://api.oneflow.com/v1")
	token, err := o.secret("ONEFLOW_API_TOKEN")
	if err != nil {
		return nil, err
	}
	if token == "" {
		return nil, errors.New("ONEFLOW_API_TOKEN is not set")
	}
	email := o.env.Getenv("ONEFLOW_USER_EMAIL")
	if email == "" {
		return nil, errors.New("ONEFLOW_USER_EMAIL is not set")
	}
	return oneflow.New(oneflow.Options{BaseURL: base, Token: token, UserEmail: email, RequestTimeout: o.timeout, Logger: o.logger(),
		RateLimitBackoff: time.Second, RateLimitMaxWait: 5 * time.Second})
}

// logger keeps the vendor clients' own logs out of the tool's output: each
// finding is reported once, in words, by the command.
func (o *options) logger() *slog.Logger { return slog.New(slog.DiscardHandler) }

func templateTypeName(o *options) string { return o.getenv("FLEXHRM_TEMPLATE_TYPE_NAME", "Flex HRM") }

// runCheck gathers every finding; it never stops at the first problem, so
// one run tells an operator everything that is wrong.
func runCheck(ctx context.Context, o *options) []Finding {
	var fs []Finding
	add := func(level, subject, format string, args ...any) {
		fs = append(fs, Finding{Level: level, Subject: subject, Message: fmt.Sprintf(format, args...)})
	}

	flex, err := o.flexClient()
	switch {
	case err != nil:
		add("fail", "flex-hrm", "%v", err)
	default:
		if err := flex.Check(ctx); err != nil {
			add("fail", "flex-hrm", "%v", err)
		} else {
			add("ok", "flex-hrm", "credentials accepted at %s", flex.APIRoot())
			companies, err := flex.ListCompanies(ctx)
			if err != nil {
				add("fail", "flex-hrm", "listing companies: %v", err)
			}
			if err == nil && len(companies) == 0 {
				add("fail", "flex-hrm", "the API user sees no company: ask Flex HRM to grant it the companies to sync")
			}
			for _, c := range companies {
				subject := fmt.Sprintf("company %s %s", c.CompanyNumber, c.Name)
				cats, err := flex.ListDocumentCategories(ctx, c.ID)
				if err != nil {
					add("fail", subject, "listing document categories: %v", err)
					continue
				}
				cat, err := flexhrm.ChooseOneflowCategory(cats)
				if err != nil {
					add("fail", subject, "no usable \"Oneflow…\" document category (name starting with Oneflow, used in the employment register): PDFs of its employees cannot be archived")
					continue
				}
				add("ok", subject, "PDFs go to document category %q", cat.Name)
			}
		}
	}

	of, err := o.oneflowClient()
	if err != nil {
		add("fail", "oneflow", "%v", err)
		return fs
	}
	if err := of.Ping(ctx); err != nil {
		add("fail", "oneflow", "token or user email refused: %v", err)
		return fs
	}
	add("ok", "oneflow", "token and user email accepted")
	name := templateTypeName(o)
	types, err := of.ListTemplateTypes(ctx)
	if err != nil {
		add("fail", "oneflow", "listing template types: %v", err)
		return fs
	}
	var found *oneflow.TemplateType
	for i := range types {
		if strings.EqualFold(strings.TrimSpace(types[i].Name), name) {
			found = &types[i]
			break
		}
	}
	if found == nil {
		add("fail", "oneflow", "no template type %q: run `flexflowctl setup-oneflow`", name)
		return fs
	}
	fields, err := of.ListTemplateTypeDataFields(ctx, found.ID)
	if err != nil {
		add("fail", "oneflow", "reading the data fields of %q: %v", name, err)
		return fs
	}
	have := map[string]bool{}
	for _, f := range fields {
		have[f.CustomID] = true
	}
	var missing []string
	for _, f := range oneflow.FlexHRMDataFields() {
		if !have[f.CustomID] {
			missing = append(missing, f.CustomID)
		}
	}
	if len(missing) > 0 {
		add("fail", "oneflow", "template type %q lacks %d of the 15 data fields (%s): run `flexflowctl setup-oneflow`", name, len(missing), strings.Join(missing, ", "))
	} else {
		add("ok", "oneflow", "template type %q holds the 15 data fields", name)
	}
	return fs
}

func checkCmd(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "check",
		Short: "Prove the Flex HRM and Oneflow setup: credentials, companies, document categories, template type",
		Long: `check reads FLEXHRM_API_ROOT, FLEXHRM_CREDENTIALS (or _FILE), ONEFLOW_API_URL, ONEFLOW_API_TOKEN
(or _FILE), ONEFLOW_USER_EMAIL and FLEXHRM_TEMPLATE_TYPE_NAME, and prints one line per finding.
It exits 1 when anything blocks syncing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), 4*o.timeout)
			defer cancel()
			fs := runCheck(ctx, o)
			failed := 0
			for _, f := range fs {
				if f.Level == "fail" {
					failed++
				}
			}
			if o.json {
				if err := o.printJSON(fs); err != nil {
					return err
				}
			} else {
				for _, f := range fs {
					fmt.Fprintf(o.env.Stdout, "%-4s  %-28s  %s\n", f.Level, f.Subject, f.Message)
				}
			}
			if failed > 0 {
				return &ExitError{Code: ExitFailed, Msg: fmt.Sprintf("%d finding(s) block syncing", failed)}
			}
			return nil
		},
	}
}

func setupOneflowCmd(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "setup-oneflow",
		Short: "Make sure Oneflow has the \"Flex HRM\" template type with the 15 data fields (never drops a field)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			of, err := o.oneflowClient()
			if err != nil {
				return &ExitError{Code: ExitUsage, Msg: err.Error()}
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 4*o.timeout)
			defer cancel()
			name := templateTypeName(o)
			res, err := of.EnsureTemplateTypeFields(ctx, name, oneflow.FlexHRMDataFields())
			if err != nil {
				return &ExitError{Code: ExitFailed, Msg: fmt.Sprintf("setting up template type %q: %v", name, err)}
			}
			if o.json {
				return o.printJSON(res)
			}
			switch {
			case res.Created:
				fmt.Fprintf(o.env.Stdout, "created template type %q (id %d) with the %d data fields\n", name, res.TemplateType.ID, len(res.Added))
			case len(res.Added) > 0:
				fmt.Fprintf(o.env.Stdout, "template type %q (id %d): added %s; kept the %d fields it had\n", name, res.TemplateType.ID, strings.Join(res.Added, ", "), res.Kept)
			default:
				fmt.Fprintf(o.env.Stdout, "template type %q (id %d) already holds the 15 data fields; nothing changed\n", name, res.TemplateType.ID)
			}
			return nil
		},
	}
}
