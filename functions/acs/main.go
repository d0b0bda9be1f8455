// Command acs is the samlflex acs Lambda function (API Gateway HTTP API,
// payload 2.0). It serves the same handler as `samlflex serve`; the stack
// routes the login link and the ACS to it.
package main

import "github.com/samlflex/samlflex/internal/awsapp"

func main() { awsapp.StartHTTP("acs") }
