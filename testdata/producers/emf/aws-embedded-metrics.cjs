// EMF written by npm aws-embedded-metrics inside Lambda (it detects Lambda
// from AWS_LAMBDA_FUNCTION_NAME and writes with console.log, which the
// runtime prefixes). Run by generate.sh; output: aws-embedded-metrics.log.
'use strict';
const { REQUEST_ID } = require('./lambda.cjs');
const { metricScope, Unit, StorageResolution, Configuration } = require('aws-embedded-metrics');

Configuration.namespace = 'Shop';

// 1. Dimensions, several units, a repeated metric (an array), high resolution.
const checkout = metricScope((metrics) => async () => {
  metrics.putDimensions({ Service: 'checkout' });
  metrics.putMetric('Latency', 120.5, Unit.Milliseconds);
  metrics.putMetric('Latency', 80, Unit.Milliseconds);
  metrics.putMetric('Orders', 3, Unit.Count);
  metrics.putMetric('PayloadSize', 2048, Unit.Bytes, StorageResolution.High);
  metrics.putMetric('CpuUsage', 37.5, Unit.Percent);
  metrics.setProperty('RequestId', REQUEST_ID);
});

// 2. Several dimension sets replacing the default ones, another namespace.
const sets = metricScope((metrics) => async () => {
  metrics.setNamespace('Shop/Payments');
  metrics.setDimensions([{ Service: 'payments' }, { Service: 'payments', Region: 'eu-west-1' }]);
  metrics.putMetric('Throughput', 12.25, Unit.KilobytesPerSecond);
  metrics.putMetric('Requests', 40, Unit.CountPerSecond);
});

// 3. No dimensions at all.
const none = metricScope((metrics) => async () => {
  metrics.setDimensions([]);
  metrics.putMetric('Heartbeat', 1, Unit.Count);
});

// 4. 150 values of one metric: the library splits them over two events.
const many = metricScope((metrics) => async () => {
  metrics.putDimensions({ Service: 'batch' });
  for (let i = 1; i <= 150; i++) metrics.putMetric('ItemSize', i, Unit.Bytes);
});

(async () => {
  await checkout();
  await sets();
  await none();
  await many();
})();
