// Package manifests holds no code, only the test that keeps flexflow's
// deployment files honest. Docker is not available where flexflow is built,
// so nothing ever builds the images or applies the manifests there; instead
// the test parses every Dockerfile (deploy/docker), the compose file
// (deploy/compose) and every Kubernetes manifest (deploy/k8s) and checks them
// against the Go sources of the binaries they run: which main packages
// exist, the ports they listen on by default, the environment variables
// their Config structs read (`env:"..."` tags, secrets marked
// `secret:"true"` and so also accepted as <NAME>_FILE) and which of them are
// required.
package manifests
