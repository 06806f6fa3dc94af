package service_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/flexflow/flexflow/gateway/service"
)

// writeCert generates a self-signed certificate for 127.0.0.1 with the given
// common name and writes the PEM pair into dir.
func writeCert(t *testing.T, dir, cn string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// healthyBackend is a real gRPC server answering health SERVING.
func healthyBackend(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, health.NewServer())
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

func TestGatewayServesTLSAndPicksUpARenewedCertificate(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := writeCert(t, dir, "first")
	backend := healthyBackend(t)
	g, err := service.Start(context.Background(), service.Config{
		Addr: "127.0.0.1:0", EmployeeDirectoryAddr: backend, ContractSyncAddr: backend, DocumentArchiveAddr: backend,
		TLSCertFile: certFile, TLSKeyFile: keyFile, ShutdownTimeout: time.Second,
	}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = g.Close() })
	if !strings.HasPrefix(g.URL(), "https://") {
		t.Fatalf("URL %s is not https", g.URL())
	}

	client := func(pool *x509.CertPool, maxVersion uint16) *http.Client {
		return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool, MaxVersion: maxVersion},
		}}
	}
	resp, err := client(pool, 0).Get(g.URL() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS.PeerCertificates[0].Subject.CommonName != "first" {
		t.Fatalf("status %d, cert %q", resp.StatusCode, resp.TLS.PeerCertificates[0].Subject.CommonName)
	}

	if _, err := client(pool, tls.VersionTLS11).Get(g.URL() + "/healthz"); err == nil {
		t.Fatal("a TLS 1.1 client was served; TLS 1.2 is the minimum")
	}

	// A renewal writes new files; the edge serves them without a restart.
	time.Sleep(10 * time.Millisecond)
	_, _, pool2 := writeCert(t, dir, "renewed")
	later := time.Now().Add(2 * time.Second)
	_ = os.Chtimes(certFile, later, later)
	_ = os.Chtimes(keyFile, later, later)
	deadline := time.Now().Add(5 * time.Second)
	for {
		c := client(pool2, 0)
		resp, err := c.Get(g.URL() + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.TLS.PeerCertificates[0].Subject.CommonName == "renewed" {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("renewed certificate not served: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestConfigErrorsNameTheVariable(t *testing.T) {
	tests := []struct {
		name string
		cfg  service.Config
		want string
	}{
		{"bad_gateway_addr", service.Config{Addr: "nope", EmployeeDirectoryAddr: "a:1", ContractSyncAddr: "a:1", DocumentArchiveAddr: "a:1"}, "GATEWAY_ADDR"},
		{"bad_backend_addr", service.Config{Addr: "a:1", EmployeeDirectoryAddr: "a:1", ContractSyncAddr: "x", DocumentArchiveAddr: "a:1"}, "CONTRACT_SYNC_ADDR"},
		{"cert_without_key", service.Config{Addr: "a:1", EmployeeDirectoryAddr: "a:1", ContractSyncAddr: "a:1", DocumentArchiveAddr: "a:1", TLSCertFile: "c"}, "GATEWAY_TLS_KEY_FILE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want it to name %s", err, tt.want)
			}
		})
	}
}
