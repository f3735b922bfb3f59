// EMF written by npm @aws-lambda-powertools/metrics inside Lambda (it writes
// with its own Console, so the runtime's prefix is absent). Run by
// generate.sh; output: powertools.log.
import './lambda.cjs';
import { Metrics, MetricUnit, MetricResolution } from '@aws-lambda-powertools/metrics';

const metrics = new Metrics({
  namespace: 'Shop',
  serviceName: 'orders',
  defaultDimensions: { environment: 'prod' },
});

// 1. Cold start metric (its own event, dimension function_name).
metrics.captureColdStartMetric('orders-fn');

// 2. Dimensions, several units, a repeated metric (an array), high resolution.
metrics.addDimension('Region', 'eu-west-1');
metrics.addMetric('Latency', MetricUnit.Milliseconds, 120.5);
metrics.addMetric('Latency', MetricUnit.Milliseconds, 80);
metrics.addMetric('Orders', MetricUnit.Count, 3);
metrics.addMetric('PayloadSize', MetricUnit.Bytes, 2048, MetricResolution.High);
metrics.addMetric('Throughput', MetricUnit.MegabitsPerSecond, 1.5);
metrics.addMetadata('requestId', '3f1c2a9e-7b4d-4e8a-9c61-0d5e2f8a7b13');
metrics.publishStoredMetrics();

// 3. A single metric with its own dimension.
const single = metrics.singleMetric();
single.addDimension('Step', 'payment');
single.addMetric('StepDuration', MetricUnit.Seconds, 0.25);

// 4. Default dimensions only, microseconds.
metrics.addMetric('GcPause', MetricUnit.Microseconds, 750);
metrics.publishStoredMetrics();
