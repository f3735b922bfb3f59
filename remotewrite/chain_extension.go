//go:build lambdabridge_extension

package remotewrite

// defaultChain, in the Lambda extension's build, is lambdaChain: the SDK's
// configuration loader is not linked.
var defaultChain credentialChain = lambdaChain
