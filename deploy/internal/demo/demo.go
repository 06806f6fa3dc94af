// Package demo plays one contract's life against a running flexflow (create
// in the Oneflow sandbox with an employee number, publish, sign) and prints
// what flexflow did. `make demo` runs it; the trace test reuses it.
package demo

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/flexflow/flexflow/deploy/internal/ctl"
	contractsyncv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/contractsync/v1"
	documentarchivev1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/documentarchive/v1"
)

type demo struct {
	oneflow, flex string
	token         string
	sync          contractsyncv1.ContractSyncServiceClient
	archive       documentarchivev1.DocumentArchiveServiceClient
	timeout       time.Duration
	out           io.Writer
}

// Config says where flexflow and the sandboxes are.
type Config struct {
	OneflowSandboxURL   string
	FlexSandboxURL      string
	ContractSyncAddr    string
	DocumentArchiveAddr string
	OperatorToken       string
	TemplateID          int
	EmployeeNumber      string
	Timeout             time.Duration
	// Out receives the report; nil discards it.
	Out io.Writer
}

// Result is what the demo produced.
type Result struct {
	ContractID int64
}

// Play runs one contract's life and reports it to cfg.Out.
func Play(ctx context.Context, cfg Config) (Result, error) {
	out := cfg.Out
	if out == nil {
		out = io.Discard
	}
	id, err := play(ctx, cfg, out)
	return Result{ContractID: id}, err
}

func play(ctx context.Context, cfg Config, out io.Writer) (int64, error) {
	oneflowURL, flexURL, template, employee, timeout := cfg.OneflowSandboxURL, cfg.FlexSandboxURL, cfg.TemplateID, cfg.EmployeeNumber, cfg.Timeout
	token := cfg.OperatorToken
	syncAddr, archiveAddr := cfg.ContractSyncAddr, cfg.DocumentArchiveAddr
	sc, err := grpc.NewClient(syncAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return 0, err
	}
	defer sc.Close()
	ac, err := grpc.NewClient(archiveAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return 0, err
	}
	defer ac.Close()
	d := &demo{oneflow: oneflowURL, flex: flexURL, token: token, timeout: timeout, out: out,
		sync: contractsyncv1.NewContractSyncServiceClient(sc), archive: documentarchivev1.NewDocumentArchiveServiceClient(ac)}

	var created struct {
		ID int64 `json:"id"`
	}
	if err := d.call(ctx, http.MethodPost, d.oneflow+"/_sandbox/contracts", map[string]any{"template_id": template, "employee_number": employee}, &created); err != nil {
		return 0, fmt.Errorf("create a contract in the Oneflow sandbox (is `make run` running?): %w", err)
	}
	id := created.ID
	fmt.Fprintf(out, "1. created contract %d from template %d with employee number %s\n", id, template, employee)
	if err := d.waitFor(ctx, id, "fetch", func(s *contractsyncv1.GetContractSyncResponse) bool {
		return slices.Contains(s.GetSync().GetCompletedFlows(), "fetch")
	}); err != nil {
		return id, err
	}
	fmt.Fprintln(out, "   fields filled, participants added, contract named")

	if err := d.call(ctx, http.MethodPost, fmt.Sprintf("%s/_sandbox/contracts/%d/publish", d.oneflow, id), nil, nil); err != nil {
		return id, fmt.Errorf("publish: %w", err)
	}
	fmt.Fprintf(out, "2. published contract %d\n", id)
	if err := d.waitForDocument(ctx, id, documentarchivev1.DocumentStatus_DOCUMENT_STATUS_PENDING); err != nil {
		return id, err
	}
	fmt.Fprintln(out, "   Pending PDF archived in Flex HRM")

	if err := d.call(ctx, http.MethodPost, fmt.Sprintf("%s/_sandbox/contracts/%d/sign", d.oneflow, id), map[string]any{}, nil); err != nil {
		return id, fmt.Errorf("sign: %w", err)
	}
	fmt.Fprintf(out, "3. every signatory signed contract %d\n", id)
	if err := d.waitForDocument(ctx, id, documentarchivev1.DocumentStatus_DOCUMENT_STATUS_SIGNED); err != nil {
		return id, err
	}
	fmt.Fprintln(out, "   employee written back, Signed PDF archived in Flex HRM")

	env := ctl.Env{Stdout: out, Stderr: out, Getenv: func(k string) string {
		switch k {
		case "FLEXFLOW_OPERATOR_TOKEN":
			return token
		case "CONTRACT_SYNC_ADDR":
			return syncAddr
		case "DOCUMENT_ARCHIVE_ADDR":
			return archiveAddr
		}
		return os.Getenv(k)
	}}
	fmt.Fprintln(out, "\nSync log")
	ctl.Main(ctx, []string{"status", strconv.FormatInt(id, 10)}, env)
	fmt.Fprintln(out, "\nData fields as filled")
	if err := d.printFields(ctx, id); err != nil {
		return id, err
	}
	fmt.Fprintln(out, "\nDocuments in the Flex HRM sandbox")
	return id, d.printFlexDocuments(ctx, id)
}

func (d *demo) authed(ctx context.Context) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+d.token)
}

func (d *demo) waitFor(ctx context.Context, id int64, what string, done func(*contractsyncv1.GetContractSyncResponse) bool) error {
	deadline := time.Now().Add(d.timeout)
	var last string
	for time.Now().Before(deadline) {
		resp, err := d.sync.GetContractSync(d.authed(ctx), &contractsyncv1.GetContractSyncRequest{ContractId: id})
		if err == nil {
			if done(resp) {
				return nil
			}
			if resp.GetSync().GetStatus() == contractsyncv1.SyncStatus_SYNC_STATUS_FAILED {
				return fmt.Errorf("contract %d failed during %s: %s (see: flexflowctl status %d)", id, what, resp.GetSync().GetLastFailure(), id)
			}
			last = resp.GetSync().GetStatus().String()
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("contract %d: %s did not complete within %s (last: %s)", id, what, d.timeout, last)
}

func (d *demo) waitForDocument(ctx context.Context, id int64, st documentarchivev1.DocumentStatus) error {
	deadline := time.Now().Add(d.timeout)
	for time.Now().Before(deadline) {
		resp, err := d.archive.ListDocuments(d.authed(ctx), &documentarchivev1.ListDocumentsRequest{ContractId: id})
		if err == nil {
			for _, doc := range resp.GetDocuments() {
				if doc.GetStatus() == st {
					return nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("contract %d: no %s document within %s (see: flexflowctl status %d)", id, st, d.timeout, id)
}

func (d *demo) printFields(ctx context.Context, id int64) error {
	var c struct {
		Private struct {
			Name string `json:"name"`
		} `json:"_private"`
		DataFields []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"data_fields"`
	}
	if err := d.call(ctx, http.MethodGet, fmt.Sprintf("%s/_sandbox/contracts/%d", d.oneflow, id), nil, &c); err != nil {
		return err
	}
	fmt.Fprintf(d.out, "contract name: %s\n", c.Private.Name)
	tw := tabwriter.NewWriter(d.out, 0, 4, 2, ' ', 0)
	for _, f := range c.DataFields {
		fmt.Fprintf(tw, "%s\t%s\n", f.Name, f.Value)
	}
	return tw.Flush()
}

func (d *demo) printFlexDocuments(ctx context.Context, id int64) error {
	resp, err := d.archive.ListDocuments(d.authed(ctx), &documentarchivev1.ListDocumentsRequest{ContractId: id})
	if err != nil {
		return err
	}
	var state struct {
		Documents []map[string]any `json:"documents"`
	}
	if err := d.call(ctx, http.MethodGet, d.flex+"/_sandbox/state", nil, &state); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(d.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TITLE\tCATEGORY\tBYTES\tSHA-256")
	for _, rec := range resp.GetDocuments() {
		for _, doc := range state.Documents {
			if fmt.Sprint(doc["id"]) == rec.GetFlexDocumentId() {
				fmt.Fprintf(tw, "%v\t%v\t%v\t%v\n", doc["title"], doc["documentCategoryId"], doc["contentLength"], doc["sha256"])
			}
		}
	}
	return tw.Flush()
}

func (d *demo) call(ctx context.Context, method, url string, body, out any) error {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d %s", method, url, resp.StatusCode, strings.TrimSpace(string(raw)))
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

// EnvOr returns the environment variable k, or def when it is empty.
func EnvOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// OperatorToken finds the token `make run` generated (or the one set).
func OperatorToken() (string, error) {
	for _, k := range []string{"FLEXFLOW_OPERATOR_TOKEN", "OPERATOR_TOKENS"} {
		if v := os.Getenv(k); v != "" {
			return strings.TrimSpace(strings.Split(v, ",")[0]), nil
		}
	}
	path := filepath.Join(EnvOr("FLEXFLOW_DATA_DIR", "./.flexflow"), "secrets.env")
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("no operator token: start `make run` first (it writes %s) or set FLEXFLOW_OPERATOR_TOKEN", path)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "OPERATOR_TOKENS="); ok {
			return strings.Split(v, ",")[0], nil
		}
	}
	return "", errors.New("no OPERATOR_TOKENS in " + path)
}
