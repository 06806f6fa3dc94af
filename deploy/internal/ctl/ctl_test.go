package ctl_test

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/flexflow/flexflow/deploy/internal/ctl"
	contractsyncv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/contractsync/v1"
	eventsv1 "github.com/flexflow/flexflow/proto/gen/go/flexflow/events/v1"
)

// syncServer is a real gRPC server on loopback that checks the operator token
// the way contract-sync does.
type syncServer struct {
	contractsyncv1.UnimplementedContractSyncServiceServer
}

func (syncServer) GetContractSync(ctx context.Context, req *contractsyncv1.GetContractSyncRequest) (*contractsyncv1.GetContractSyncResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	switch got := md.Get("authorization"); {
	case len(got) == 0:
		return nil, status.Error(codes.Unauthenticated, "missing bearer token")
	case got[0] != "Bearer operator-token-0123456789":
		return nil, status.Error(codes.PermissionDenied, "token not valid for this method")
	}
	if req.GetContractId() != 4711 {
		return nil, status.Error(codes.NotFound, "flexflow has seen no webhook for this contract")
	}
	return &contractsyncv1.GetContractSyncResponse{
		Sync: &contractsyncv1.ContractSync{ContractId: 4711, Status: contractsyncv1.SyncStatus_SYNC_STATUS_IN_SYNC, OneflowState: "signed"},
		Entries: []*eventsv1.SyncLogEntry{{ContractId: 4711, Flow: eventsv1.Flow_FLOW_FETCH, Step: "fill_data_fields",
			Outcome: eventsv1.Outcome_OUTCOME_DONE, Reason: "15 fields filled", Service: "contract-sync"}},
	}, nil
}

func startSync(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	contractsyncv1.RegisterContractSyncServiceServer(srv, syncServer{})
	healthpb.RegisterHealthServer(srv, health.NewServer())
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

func TestExitCodesSayWhatHappened(t *testing.T) {
	addr := startSync(t)
	deadAddr := func() string {
		lis, _ := net.Listen("tcp", "127.0.0.1:0")
		a := lis.Addr().String()
		lis.Close()
		return a
	}()
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{"status_prints_the_sync_log_as_a_table", []string{"status", "4711"}, map[string]string{"FLEXFLOW_OPERATOR_TOKEN": "operator-token-0123456789"}, ctl.ExitOK, "fill_data_fields", ""},
		{"status_as_json", []string{"status", "4711", "--json"}, map[string]string{"FLEXFLOW_OPERATOR_TOKEN": "operator-token-0123456789"}, ctl.ExitOK, `"step": "fill_data_fields"`, ""},
		{"operator_tokens_list_is_a_fallback", []string{"status", "4711"}, map[string]string{"OPERATOR_TOKENS": "operator-token-0123456789,other"}, ctl.ExitOK, "in_sync", ""},
		{"no_token_says_which_variable_to_set", []string{"status", "4711"}, nil, ctl.ExitAuth, "", "FLEXFLOW_OPERATOR_TOKEN"},
		{"wrong_token_is_refused", []string{"status", "4711"}, map[string]string{"FLEXFLOW_OPERATOR_TOKEN": "nope"}, ctl.ExitAuth, "", "refused"},
		{"unknown_contract_is_not_found", []string{"status", "1"}, map[string]string{"FLEXFLOW_OPERATOR_TOKEN": "operator-token-0123456789"}, ctl.ExitNotFound, "", "no webhook"},
		{"not_a_contract_id_is_usage", []string{"status", "abc"}, nil, ctl.ExitUsage, "", "not a Oneflow contract id"},
		{"unknown_command_is_usage", []string{"frobnicate"}, nil, ctl.ExitUsage, "", "--help"},
		{"unreachable_service_says_to_start_it", []string{"status", "4711", "--contract-sync", deadAddr}, map[string]string{"FLEXFLOW_OPERATOR_TOKEN": "x"}, ctl.ExitUnavailable, "", "not reachable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			env := map[string]string{"CONTRACT_SYNC_ADDR": addr}
			for k, v := range tt.env {
				env[k] = v
			}
			code := ctl.Main(context.Background(), tt.args, ctl.Env{
				Getenv: func(k string) string { return env[k] }, Stdout: &out, Stderr: &errOut,
			})
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stdout %q stderr %q", code, tt.wantCode, out.String(), errOut.String())
			}
			if !strings.Contains(out.String(), tt.wantOut) {
				t.Fatalf("stdout %q lacks %q", out.String(), tt.wantOut)
			}
			if !strings.Contains(errOut.String(), tt.wantErr) {
				t.Fatalf("stderr %q lacks %q", errOut.String(), tt.wantErr)
			}
			if strings.Contains(out.String()+errOut.String(), "operator-token-0123456789") {
				t.Fatal("the token was printed")
			}
		})
	}
}
