package bench

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// flexProxy stands between one process and the Flex HRM sandbox and logs
// every exchange with a hash of its JSON body. The sandbox's own request log
// is the authority for counts; the proxy tells which process sent a request
// and which logical request it was (two POST /employmentperiods of different
// employees differ only in their bodies).
type flexProxy struct {
	name string
	srv  *http.Server
	url  string

	mu  sync.Mutex
	log []proxyRecord
}

// proxyRecord is one exchange the proxy passed on.
type proxyRecord struct {
	Time   time.Time
	Method string
	Path   string
	Query  string
	Body   string // sha256 of a JSON body, "" otherwise
	Status int
	// Done is when the answer went back.
	Done time.Time
	// Attempt is the client's Flexflow-Attempt header: which try of a read
	// this is (0 when absent: writes, which only their caller retries).
	Attempt int
}

// key names the logical request: a retry of it has the same key.
func (r proxyRecord) key() string {
	return r.Method + " " + r.Path + "?" + r.Query + " #" + r.Body
}

func startFlexProxy(name, apiRoot string) (*flexProxy, error) {
	target, err := url.Parse(apiRoot)
	if err != nil {
		return nil, err
	}
	origin := &url.URL{Scheme: target.Scheme, Host: target.Host}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(origin) },
		// Each process's own client paces; the proxy must not add a
		// connection limit of its own.
		Transport: &http.Transport{MaxIdleConnsPerHost: 64},
	}
	p := &flexProxy{name: name}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p.url = "http://" + lis.Addr().String() + target.Path
	p.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := proxyRecord{Time: time.Now(), Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery}
		rec.Attempt, _ = strconv.Atoi(r.Header.Get("Flexflow-Attempt"))
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") && r.Body != nil {
			body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			sum := sha256.Sum256(body)
			rec.Body = hex.EncodeToString(sum[:8])
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		sw := &statusWriter{ResponseWriter: w}
		rp.ServeHTTP(sw, r)
		rec.Status = sw.status
		rec.Done = time.Now()
		p.mu.Lock()
		p.log = append(p.log, rec)
		p.mu.Unlock()
	}), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.srv.Serve(lis) }()
	return p, nil
}

// URL is the API root to give the process.
func (p *flexProxy) URL() string { return p.url }

func (p *flexProxy) records() []proxyRecord {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]proxyRecord(nil), p.log...)
}

func (p *flexProxy) clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.log = nil
}

func (p *flexProxy) Close() { _ = p.srv.Close() }

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// refusalRuns checks "no request refused twice in a row" and returns how
// many refusals followed a refusal of the same logical request, with up to
// limit examples. A read is retried inside the client, which numbers its
// tries (Flexflow-Attempt): try n ≥ 2 exists only because try n-1 failed,
// and during the burst the only failure is a 429 (the report shows no other
// error), so a read's try n ≥ 2 answered 429 is a read refused twice. That
// holds even when identical reads of several callers are in flight at once
// (the company's document categories, the same employee read by two steps
// of a flow), which the wire cannot tell apart. A write is retried by its
// caller with the same method, path, query and body: a write refused when
// the previous same-key write was refused counts too.
//
// early counts those of them refused for lack of backoff: sent sooner than
// retryAfter after the refusal they retried (or with that refusal not
// found, to be safe). The rest waited out the Retry-After and found the
// capacity used by the other process.
func refusalRuns(recs []proxyRecord, retryAfter time.Duration, limit int) (n, early int, examples []string) {
	byKey := map[string][]proxyRecord{}
	for _, r := range recs {
		byKey[r.key()] = append(byKey[r.key()], r)
	}
	count := func(r proxyRecord, prev *proxyRecord) {
		n++
		if prev == nil || r.Time.Sub(prev.Done) < retryAfter {
			early++
		}
		if len(examples) >= limit {
			return
		}
		e := fmt.Sprintf("%s %s try %d at %s", r.Method, r.Path, max(r.Attempt, 1), r.Time.Format("15:04:05.000"))
		if prev != nil {
			e += fmt.Sprintf(", %s after the previous try was refused", r.Time.Sub(prev.Done).Round(time.Millisecond))
		}
		examples = append(examples, e)
	}
	for _, rs := range byKey {
		sort.SliceStable(rs, func(i, j int) bool { return rs[i].Time.Before(rs[j].Time) })
		for i, r := range rs {
			if r.Status != http.StatusTooManyRequests {
				continue
			}
			switch {
			case r.Attempt >= 2:
				// For the example: the refusal it retried, preferring one
				// answered long enough before to be its own.
				var prev *proxyRecord
				for j := i - 1; j >= 0; j-- {
					q := rs[j]
					if q.Attempt == r.Attempt-1 && q.Status == http.StatusTooManyRequests && !q.Done.After(r.Time) {
						if prev == nil || r.Time.Sub(q.Done) < 900*time.Millisecond {
							prev = &rs[j]
						}
						if r.Time.Sub(q.Done) >= 900*time.Millisecond {
							break
						}
					}
				}
				count(r, prev)
			case r.Attempt == 0 && i > 0 && rs[i-1].Status == http.StatusTooManyRequests:
				count(r, &rs[i-1])
			}
		}
	}
	return n, early, examples
}
