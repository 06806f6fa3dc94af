package service_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/flexflow/flexflow/libs/auth"
	"github.com/flexflow/flexflow/libs/config"
	flexsandbox "github.com/flexflow/flexflow/libs/flexhrm/sandbox"
	"github.com/flexflow/flexflow/libs/natsx"
	"github.com/flexflow/flexflow/libs/oneflow"
	oneflowsandbox "github.com/flexflow/flexflow/libs/oneflow/sandbox"
	"github.com/flexflow/flexflow/libs/telemetry"
	contractsyncv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/contractsync/v1"
	documentarchivev1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/documentarchive/v1"
	eventsv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/events/v1"
	"github.com/flexflow/flexflow/services/document-archive/service"
)

// Seeded Flex HRM sandbox data the tests use.
const (
	companyDemo     = "c0000000-0000-4000-8000-00000000000a" // Flexflow Demo AB: "Oneflow Documents" category
	companyKonsult  = "c0000000-0000-4000-8000-00000000000c" // Flexflow Konsult AB: no Oneflow category
	categoryOneflow = "ca000000-0000-4000-8000-0000000000a1"
	employeeAnna    = "e0000000-0000-4000-8000-000000001001" // 1001, Anna Lindström
	employeeGustav  = "e0000000-0000-4000-8000-00000000c001" // 3001, Gustav Carlsson
	templateEmail   = 11                                     // "Employment contract (email)"
	operatorToken   = "operator-token-for-tests"
)

// spans collects every span the service ends, to check attributes.
var spans = tracetest.NewInMemoryExporter()

func TestMain(m *testing.M) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(telemetry.Propagator())
	code := m.Run()
	_ = tp.Shutdown(context.Background())
	os.Exit(code)
}

// harness runs real parts on loopback: an embedded NATS server, the Oneflow
// and Flex HRM sandboxes, and document-archive itself.
type harness struct {
	t       *testing.T
	ctx     context.Context
	nats    *server.Server
	nc      *nats.Conn
	js      jetstream.JetStream
	oneflow *oneflowsandbox.Server
	flex    *flexsandbox.Server
	cfg     service.Config
	svc     *service.Service
	client  documentarchivev1.DocumentArchiveServiceClient
	proxy   *pdfProxy
}

type harnessOption func(*service.Config)

func newHarness(t *testing.T, opts ...harnessOption) *harness {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	h := &harness{t: t, ctx: ctx}

	srv, err := natsx.RunServer(ctx, natsx.ServerOptions{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	h.nats = srv
	t.Cleanup(func() { srv.Shutdown(); srv.WaitForShutdown() })
	if h.nc, err = nats.Connect(srv.ClientURL()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.nc.Close)
	if h.js, err = jetstream.New(h.nc); err != nil {
		t.Fatal(err)
	}

	if h.oneflow, err = oneflowsandbox.Start(oneflowsandbox.Options{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.oneflow.Close() })
	h.proxy = newPDFProxy(t, h.oneflow.URL())

	h.flex = flexsandbox.New(flexsandbox.DefaultSeed(), flexsandbox.WithDocumentContent())
	flexRoot, err := h.flex.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.flex.Close)

	h.cfg = service.Config{
		Addr:               "127.0.0.1:0",
		NATSURL:            srv.ClientURL(),
		NATSReplicas:       1,
		FlexHRMAPIRoot:     mustURL(t, flexRoot),
		FlexHRMCredentials: h.flex.Credentials(),
		OneflowAPIURL:      mustURL(t, h.proxy.URL()+"/v1"),
		OneflowAPIToken:    h.oneflow.APIToken(),
		OneflowUserEmail:   h.oneflow.UserEmail(),
		OperatorTokens:     config.Tokens{operatorToken},
		RetryBudget:        time.Minute,
		RetryInitial:       20 * time.Millisecond,
		RetryMax:           200 * time.Millisecond,
		Workers:            2,
		MaxAckPending:      16,
		AckWait:            time.Second,
		LeaseTTL:           time.Second,
	}
	for _, o := range opts {
		o(&h.cfg)
	}
	h.start()
	return h
}

func mustURL(t *testing.T, s string) config.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return config.URL{URL: u}
}

// start (re)starts document-archive on the same NATS, as a restart after a
// crash does.
func (h *harness) start() {
	h.t.Helper()
	svc, err := service.Start(h.ctx, h.cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		h.t.Fatal(err)
	}
	h.svc = svc
	h.t.Cleanup(func() { _ = svc.Close() })
	conn, err := grpc.NewClient(svc.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(auth.BearerCredentials(operatorToken)))
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { _ = conn.Close() })
	h.client = documentarchivev1.NewDocumentArchiveServiceClient(conn)
}

// contract creates a contract for employee number in the Oneflow sandbox
// and publishes it; name nil keeps the template's name, "" means no name.
func (h *harness) contract(name *string, employeeNumber string) int64 {
	h.t.Helper()
	c, err := h.oneflow.CreateContract(oneflowsandbox.CreateContractRequest{TemplateID: templateEmail, EmployeeNumber: employeeNumber, Name: name})
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.oneflow.Publish(c.ID); err != nil {
		h.t.Fatal(err)
	}
	return c.ID
}

func (h *harness) sign(contractID int64) {
	h.t.Helper()
	if err := h.oneflow.SignAll(contractID); err != nil {
		h.t.Fatal(err)
	}
}

// event is what contract-sync publishes for a contract.
type event struct {
	contractID int64
	signed     bool
	generation int32
	employee   string
	company    string
	number     string
	msgID      string // default <id>-<status>-<generation>
	ctx        context.Context
}

func (h *harness) publish(e event) {
	h.t.Helper()
	status, subject := "pending", "flexflow.events.contract.published"
	var payload proto.Message = &eventsv1.ContractPublished{ContractId: e.contractID, Generation: e.generation, CallbackId: "cb",
		EmployeeNumber: e.number, FlexEmployeeId: e.employee, FlexCompanyId: e.company, OccurredTime: timestamppb.Now()}
	if e.signed {
		status, subject = "signed", "flexflow.events.contract.signed"
		payload = &eventsv1.ContractSigned{ContractId: e.contractID, Generation: e.generation, CallbackId: "cb",
			EmployeeNumber: e.number, FlexEmployeeId: e.employee, FlexCompanyId: e.company, OccurredTime: timestamppb.Now()}
	}
	b, err := proto.Marshal(payload)
	if err != nil {
		h.t.Fatal(err)
	}
	h.publishRaw(subject, b, e.msgIDOr(status), e.ctx)
}

func (e event) msgIDOr(status string) string {
	if e.msgID != "" {
		return e.msgID
	}
	return strconv.FormatInt(e.contractID, 10) + "-" + status + "-" + strconv.Itoa(int(e.generation))
}

func (h *harness) publishRaw(subject string, data []byte, msgID string, ctx context.Context) {
	h.t.Helper()
	if ctx == nil {
		ctx = h.ctx
	}
	msg := &nats.Msg{Subject: subject, Data: data, Header: nats.Header{}}
	msg.Header.Set(jetstream.MsgIDHeader, msgID)
	telemetry.InjectNATS(ctx, msg.Header)
	if _, err := h.js.PublishMsg(h.ctx, msg); err != nil {
		h.t.Fatal(err)
	}
}

func anna(contractID int64) event {
	return event{contractID: contractID, employee: employeeAnna, company: companyDemo, number: "1001"}
}

// eventually polls cond until it holds or the test's deadline nears.
func (h *harness) eventually(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// documents are the Flex HRM sandbox's stored documents of an employee.
func (h *harness) documents(employeeID string) []flexsandbox.StoredDocument {
	var out []flexsandbox.StoredDocument
	for _, d := range h.flex.State().Documents {
		if d.EmployeeID == employeeID {
			out = append(out, d)
		}
	}
	return out
}

func (h *harness) documentsTitled(employeeID, title string) []flexsandbox.StoredDocument {
	var out []flexsandbox.StoredDocument
	for _, d := range h.documents(employeeID) {
		if d.Title == title {
			out = append(out, d)
		}
	}
	return out
}

// records lists what document-archive recorded for the contract.
func (h *harness) records(contractID int64) []*documentarchivev1.ArchivedDocument {
	h.t.Helper()
	res, err := h.client.ListDocuments(h.ctx, &documentarchivev1.ListDocumentsRequest{ContractId: contractID})
	if err != nil {
		h.t.Fatal(err)
	}
	return res.GetDocuments()
}

// storedRecords counts the contract's records in the KV bucket directly,
// for when the service is down.
func (h *harness) storedRecords(contractID int64) int {
	h.t.Helper()
	kv, err := h.js.KeyValue(h.ctx, "flexflow_documents")
	if err != nil {
		h.t.Fatal(err)
	}
	keys, err := kv.ListKeysFiltered(h.ctx, "doc."+strconv.FormatInt(contractID, 10)+".>")
	if err != nil {
		h.t.Fatal(err)
	}
	n := 0
	for range keys.Keys() {
		n++
	}
	return n
}

// syncLog reads the contract's sync log as an operator would.
func (h *harness) syncLog(contractID int64) []*eventsv1.SyncLogEntry {
	h.t.Helper()
	cons, err := h.js.OrderedConsumer(h.ctx, "FLEXFLOW_SYNCLOG", jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{"flexflow.synclog." + strconv.FormatInt(contractID, 10)},
	})
	if err != nil {
		h.t.Fatal(err)
	}
	var out []*eventsv1.SyncLogEntry
	batch, err := cons.FetchNoWait(10_000)
	if err != nil {
		h.t.Fatal(err)
	}
	for msg := range batch.Messages() {
		var e eventsv1.SyncLogEntry
		if err := proto.Unmarshal(msg.Data(), &e); err != nil {
			h.t.Fatal(err)
		}
		out = append(out, &e)
	}
	return out
}

func (h *harness) logHas(contractID int64, step string, outcome eventsv1.Outcome, reasonPart string) bool {
	for _, e := range h.syncLog(contractID) {
		if e.GetStep() == step && e.GetOutcome() == outcome && strings.Contains(e.GetReason(), reasonPart) {
			return true
		}
	}
	return false
}

// failure reads the contract's entry in flexflow_failures.
func (h *harness) failure(contractID int64) (*contractsyncv1.ContractFailure, bool) {
	h.t.Helper()
	kv, err := h.js.KeyValue(h.ctx, "flexflow_failures")
	if err != nil {
		h.t.Fatal(err)
	}
	e, err := kv.Get(h.ctx, strconv.FormatInt(contractID, 10))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, false
	}
	if err != nil {
		h.t.Fatal(err)
	}
	var f contractsyncv1.ContractFailure
	if err := proto.Unmarshal(e.Value(), &f); err != nil {
		h.t.Fatal(err)
	}
	return &f, true
}

// sandboxPDFSHA256 downloads the contract's file 1 from the Oneflow sandbox
// with the real client and hashes it.
func (h *harness) sandboxPDFSHA256(contractID int64) string {
	h.t.Helper()
	c, err := oneflow.New(oneflow.Options{BaseURL: h.oneflow.APIURL(), Token: h.oneflow.APIToken(), UserEmail: h.oneflow.UserEmail(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		h.t.Fatal(err)
	}
	body, err := c.DownloadContractFile(h.ctx, contractID, oneflow.ContractPDFFileID)
	if err != nil {
		h.t.Fatal(err)
	}
	defer body.Close()
	sum := sha256.New()
	if _, err := io.Copy(sum, body); err != nil {
		h.t.Fatal(err)
	}
	return hex.EncodeToString(sum.Sum(nil))
}

func (h *harness) countFlexRequests(pathID, method string) int {
	n := 0
	for _, r := range h.flex.Requests() {
		if r.PathID == pathID && (method == "" || r.Method == method) {
			n++
		}
	}
	return n
}

// pdfProxy stands between document-archive and the Oneflow sandbox so a
// test can change what the storage URL serves: other bytes than a PDF, or
// the PDF without a Content-Length.
type pdfProxy struct {
	srv *httptest.Server

	mu      sync.Mutex
	replace []byte // non-nil: serve these bytes as the file
	chunked bool   // drop Content-Length from the file
}

func newPDFProxy(t *testing.T, target string) *pdfProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &pdfProxy{}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ModifyResponse = func(resp *http.Response) error {
		if loc := resp.Header.Get("Location"); loc != "" {
			resp.Header.Set("Location", strings.Replace(loc, target, p.URL(), 1))
		}
		if !strings.HasPrefix(resp.Request.URL.Path, "/_storage/") || resp.StatusCode != http.StatusOK {
			return nil
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		if p.replace != nil {
			_ = resp.Body.Close()
			resp.Body = io.NopCloser(strings.NewReader(string(p.replace)))
			resp.ContentLength = int64(len(p.replace))
			resp.Header.Set("Content-Length", strconv.Itoa(len(p.replace)))
			resp.Header.Set("Content-Type", "text/html")
		}
		if p.chunked {
			resp.ContentLength = -1
			resp.Header.Del("Content-Length")
		}
		return nil
	}
	p.srv = httptest.NewServer(rp)
	t.Cleanup(p.srv.Close)
	return p
}

func (p *pdfProxy) URL() string { return p.srv.URL }

func (p *pdfProxy) serve(replace []byte, chunked bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.replace, p.chunked = replace, chunked
}

// traceContext returns a context carrying a fresh span, as the webhook's
// trace would arrive in the event headers.
func traceContext(t *testing.T) (context.Context, trace.TraceID) {
	t.Helper()
	ctx, span := otel.Tracer("test").Start(context.Background(), "webhook")
	t.Cleanup(func() { span.End() })
	return ctx, span.SpanContext().TraceID()
}

func ptr[T any](v T) *T { return &v }
