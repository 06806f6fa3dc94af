package edge

import (
	"crypto/tls"
	"fmt"
	"os"
	"sync"
	"time"
)

// CertReloader serves the certificate in a pair of PEM files and picks up a
// renewed pair (cert-manager, certbot) without a restart: on a handshake it
// looks at the files' modification times at most once per checkEvery.
type CertReloader struct {
	certFile, keyFile string
	checkEvery        time.Duration

	mu        sync.Mutex
	cert      *tls.Certificate
	certMod   time.Time
	keyMod    time.Time
	lastCheck time.Time
}

// NewCertReloader loads the pair once, failing when it cannot be used.
func NewCertReloader(certFile, keyFile string) (*CertReloader, error) {
	r := &CertReloader{certFile: certFile, keyFile: keyFile, checkEvery: time.Second}
	if err := r.reload(); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *CertReloader) reload() error {
	cs, err := os.Stat(r.certFile)
	if err != nil {
		return fmt.Errorf("GATEWAY_TLS_CERT_FILE: %w", err)
	}
	ks, err := os.Stat(r.keyFile)
	if err != nil {
		return fmt.Errorf("GATEWAY_TLS_KEY_FILE: %w", err)
	}
	if r.cert != nil && cs.ModTime().Equal(r.certMod) && ks.ModTime().Equal(r.keyMod) {
		return nil
	}
	pair, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("GATEWAY_TLS_CERT_FILE/GATEWAY_TLS_KEY_FILE: %w", err)
	}
	r.cert, r.certMod, r.keyMod = &pair, cs.ModTime(), ks.ModTime()
	return nil
}

// GetCertificate is a tls.Config.GetCertificate. A renewal that fails to load
// (half-written files) keeps the previous certificate in service.
func (r *CertReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now := time.Now(); now.Sub(r.lastCheck) >= r.checkEvery {
		r.lastCheck = now
		_ = r.reload()
	}
	return r.cert, nil
}

// TLSConfig is the edge's server TLS configuration: TLS 1.2 at least.
func (r *CertReloader) TLSConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: r.GetCertificate}
}
