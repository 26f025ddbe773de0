// Package deploy holds Inlay's deployment files: the Kubernetes manifests
// under kubernetes/ (applied with kubectl apply -k) and, at the repository
// root, the Dockerfile they run. It has no code; its test parses the files
// and checks that they agree with each other and with Inlay, so that
// make test catches a broken manifest without docker or kubectl.
package deploy
