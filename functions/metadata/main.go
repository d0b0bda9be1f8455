// Command metadata is the samlflex metadata Lambda function (API Gateway HTTP API,
// payload 2.0). It serves the same handler as `samlflex serve`; the stack
// routes SP metadata, the JWKS and /healthz to it.
package main

import "github.com/samlflex/samlflex/internal/awsapp"

func main() { awsapp.StartHTTP("metadata") }
