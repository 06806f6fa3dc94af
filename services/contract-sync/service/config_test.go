package service_test

import (
	"strings"
	"testing"
	"time"

	"github.com/flexflow/flexflow/libs/config"
	"github.com/flexflow/flexflow/services/contract-sync/service"
)

func TestConfigNamesEveryMissingVariableWithoutShowingSecrets(t *testing.T) {
	_, err := service.LoadConfig(config.WithEnvironment(map[string]string{"ONEFLOW_API_TOKEN": "secret-token-value"}))
	if err == nil {
		t.Fatal("missing settings accepted")
	}
	for _, name := range []string{"ONEFLOW_API_URL", "ONEFLOW_USER_EMAIL", "ONEFLOW_SIGN_KEY", "EMPLOYEE_DIRECTORY_TOKEN", "OPERATOR_TOKENS"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
	if strings.Contains(err.Error(), "secret-token-value") {
		t.Error("error shows a secret")
	}
}

func TestConfigDefaultsFollowTheConventions(t *testing.T) {
	cfg, err := service.LoadConfig(config.WithEnvironment(map[string]string{
		"ONEFLOW_API_URL": "https://api.oneflow.com/v1", "ONEFLOW_API_TOKEN": "t", "ONEFLOW_USER_EMAIL": "u@example.com",
		"ONEFLOW_SIGN_KEY": "k", "EMPLOYEE_DIRECTORY_TOKEN": "d", "OPERATOR_TOKENS": "operator-token-aaaaaaaa,operator-token-bbbbbbbb",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:9092" || cfg.WebhookPartitions != 16 || cfg.RetryBudget < 2*time.Hour ||
		cfg.AckWait <= cfg.OneflowRequestTimeout || !cfg.Workers || cfg.TemplateTypeName != "Flex HRM" ||
		cfg.EmployeeDirectoryAddr != "127.0.0.1:9091" || cfg.DataDir != "./.flexflow" || len(cfg.OperatorTokens) != 2 {
		t.Errorf("defaults = %+v", cfg)
	}
}
