// Package riebench benchmarks lambdabridge's runner beside the AWS Lambda
// Runtime Interface Emulator (aws-lambda-rie) on the same no-op
// aws-lambda-go function, through the same keep-alive HTTP client, in the
// same run. It is a module of its own so that the emulator's module stays
// out of lambdabridge's go.mod (it is a tool of this module); its binary is
// built once and cached under <user cache>/lambdabridge/aws-lambda-rie/<version>:
//
//	cd runner/internal/riebench
//	go test -run '^$' -bench . -benchtime 2000x
package riebench
