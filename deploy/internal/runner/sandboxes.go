package runner

// What the sandboxes accept when `make run` starts them with their default
// seeds. These are sandbox values, not secrets: the sandboxes run on loopback
// and hold made-up data.
const (
	// FlexSandboxRoot is the API root path under the Flex HRM sandbox's URL.
	FlexSandboxRoot = "/api"
	// FlexSandboxCredentials is base64("1001:flexflow-api:sandbox:pass:word"),
	// the default seed's API user (its password holds colons on purpose).
	FlexSandboxCredentials = "MTAwMTpmbGV4Zmxvdy1hcGk6c2FuZGJveDpwYXNzOndvcmQ="
	// OneflowSandboxRoot is the API base path under the Oneflow sandbox's URL.
	OneflowSandboxRoot = "/v1"
	// OneflowSandboxToken is the sandbox's seeded API token.
	OneflowSandboxToken = "sandbox-token-0000000000000000000000000"
	// OneflowSandboxUserEmail is the sandbox's seeded API user.
	OneflowSandboxUserEmail = "integration@example.com"
)
