#!/bin/sh
# Regenerates the EMF fixtures that emf's tests read, with the real libraries:
# npm aws-embedded-metrics -> aws-embedded-metrics.log and
# npm @aws-lambda-powertools/metrics -> powertools.log.
# Versions are pinned in package.json / package-lock.json. Needs node >= 20.
set -eu
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --loglevel=error

# The environment a Lambda function sees (the libraries read it).
export AWS_LAMBDA_FUNCTION_NAME=orders-fn
export AWS_LAMBDA_FUNCTION_VERSION='$LATEST'
export AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128
export AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/orders-fn
export AWS_LAMBDA_LOG_STREAM_NAME='2024/05/01/[$LATEST]8f2b0c6d1e3a4b5c9d7e6f0a1b2c3d4e'
export AWS_EXECUTION_ENV=AWS_Lambda_nodejs20.x
export AWS_REGION=eu-west-1
export AWS_LAMBDA_INITIALIZATION_TYPE=on-demand
export _X_AMZN_TRACE_ID='Root=1-6632133c-5f2b9c1e8a7d4e3f2b1a0c9d;Parent=53995c3f42cd8ad8;Sampled=1'
unset POWERTOOLS_DEV POWERTOOLS_METRICS_DISABLED AWS_EMF_ENVIRONMENT AWS_EMF_NAMESPACE

node aws-embedded-metrics.cjs > aws-embedded-metrics.log
node powertools.mjs > powertools.log
wc -l aws-embedded-metrics.log powertools.log
