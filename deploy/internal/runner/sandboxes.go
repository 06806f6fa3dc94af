package runner

// What the sandboxes accept when `make run` starts them with their default
// seeds. These are sandbox values, not secrets: the sandboxes run on loopback
// and hold made-up data.
const (
	// FlexSandboxRoot is the API root path under the Flex HRM sandbox's URL.
	FlexSandboxRoot = ""
	// FlexSandboxCredentials is base64("1234:flexflow-api:sandbox-password").
	FlexSandboxCredentials = "MTIzNDpmbGV4Zmxvdy1hcGk6c2FuZGJveC1wYXNzd29yZA=="
	// OneflowSandboxRoot is the API base path under the Oneflow sandbox's URL.
	OneflowSandboxRoot = ""
	// OneflowSandboxToken is the sandbox's seeded API token.
	OneflowSandboxToken = "sandbox-token-0000000000000000000000000"
	// OneflowSandboxUserEmail is the sandbox's seeded API user.
	OneflowSandboxUserEmail = "integration@example.com"
)
