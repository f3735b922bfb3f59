// Command go-emf is an example Lambda function (aws-lambda-go, custom runtime
// provided.al2023) that emits metrics the three ways real functions do: one
// CloudWatch EMF line on stdout, Datadog MONITORING lines on stdout, and
// DogStatsD datagrams through datadog-go to 127.0.0.1:8125 (the Datadog
// extension's port; DD_DOGSTATSD_URL or DD_AGENT_HOST/DD_DOGSTATSD_PORT
// override it). What it emits per invocation is fixed, so tests can assert it;
// see examples/README.md for the exact list.
//
//	go build -o examples/go-emf/bootstrap ./examples/go-emf
//	lambdabridge invoke --handler examples/go-emf/bootstrap --event-template apigateway
//	echo '{"fail":"out of stock"}' | lambdabridge invoke --handler examples/go-emf/bootstrap --event -
//
// The event may steer it (all fields optional): {"sleep_ms": 5000} sleeps
// first (to provoke a timeout), {"fail": "msg"} returns an error after the
// metrics, {"panic": true} panics after the metrics, {"exit": 3} ends the
// process without answering (a crash).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/DataDog/datadog-go/v5/statsd"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Namespace and dimensions of the EMF metrics.
const (
	Namespace = "LambdaBridgeExample"
	Service   = "checkout"
	Operation = "PlaceOrder"
)

// Control is what an event may ask of the function.
type Control struct {
	SleepMs int    `json:"sleep_ms"`
	Fail    string `json:"fail"`
	Panic   bool   `json:"panic"`
	Exit    *int   `json:"exit"`
}

// Response is the function's result.
type Response struct {
	OK bool `json:"ok"`
	// Invocation counts the invocations served by this environment (1 on a
	// cold start), which shows warm reuse.
	Invocation int64 `json:"invocation"`
}

var (
	dd          *statsd.Client
	invocations atomic.Int64
)

// newStatsd creates the DogStatsD client once per environment, as real code
// does: telemetry and origin detection off so what it sends is exactly what
// the handler asks for.
func newStatsd() (*statsd.Client, error) {
	addr := ""
	if os.Getenv("DD_DOGSTATSD_URL") == "" && os.Getenv("DD_AGENT_HOST") == "" {
		addr = "127.0.0.1:8125"
	}
	return statsd.New(addr, statsd.WithoutTelemetry(), statsd.WithoutOriginDetection())
}

func handler(ctx context.Context, event json.RawMessage) (Response, error) {
	n := invocations.Add(1)
	var c Control
	_ = json.Unmarshal(event, &c) // any event works; only an object steers
	if c.SleepMs > 0 {
		// Deaf to ctx on purpose: a handler that answered at its context's
		// deadline would race the platform's timeout (the answer sometimes
		// arrives first, an error instead of "Task timed out").
		time.Sleep(time.Duration(c.SleepMs) * time.Millisecond)
	}
	requestID := ""
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		requestID = lc.AwsRequestID
	}
	fmt.Printf("placing order (invocation %d)\n", n)
	now := time.Now()
	fmt.Println(emfLine(now, requestID))
	for _, l := range monitoringLines(now) {
		fmt.Println(l)
	}
	if dd != nil {
		sendDogStatsD(dd)
		if err := dd.Flush(); err != nil { // before returning: the environment is frozen next
			fmt.Fprintln(os.Stderr, "dogstatsd flush:", err)
		}
	}
	switch {
	case c.Exit != nil:
		fmt.Fprintf(os.Stderr, "exiting with status %d\n", *c.Exit)
		os.Exit(*c.Exit)
	case c.Panic:
		panic("example panic requested by the event")
	case c.Fail != "":
		return Response{}, errors.New(c.Fail)
	}
	return Response{OK: true, Invocation: n}, nil
}

// EMF event, hand-built the way aws-embedded-metrics lays it out: the _aws
// metadata, then the dimensions, metric values and properties as root members.
type emfEvent struct {
	AWS               emfMetadata `json:"_aws"`
	Service           string      `json:"Service"`
	Operation         string      `json:"Operation"`
	OrdersPlaced      int         `json:"OrdersPlaced"`
	ProcessingLatency []float64   `json:"ProcessingLatency"`
	PayloadSize       int         `json:"PayloadSize"`
	RequestID         string      `json:"requestId"`
	FunctionVersion   string      `json:"functionVersion"`
}

type emfMetadata struct {
	Timestamp         int64          `json:"Timestamp"`
	CloudWatchMetrics []emfDirective `json:"CloudWatchMetrics"`
}

type emfDirective struct {
	Namespace  string      `json:"Namespace"`
	Dimensions [][]string  `json:"Dimensions"`
	Metrics    []emfMetric `json:"Metrics"`
}

type emfMetric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

// emfLine builds the invocation's EMF event: one directive, dimensions
// Service+Operation, a Count, a Milliseconds metric with several values and
// a Bytes metric, plus two properties.
func emfLine(now time.Time, requestID string) string {
	ev := emfEvent{
		AWS: emfMetadata{
			Timestamp: now.UnixMilli(),
			CloudWatchMetrics: []emfDirective{{
				Namespace:  Namespace,
				Dimensions: [][]string{{"Service", "Operation"}},
				Metrics: []emfMetric{
					{Name: "OrdersPlaced", Unit: "Count"},
					{Name: "ProcessingLatency", Unit: "Milliseconds"},
					{Name: "PayloadSize", Unit: "Bytes"},
				},
			}},
		},
		Service:           Service,
		Operation:         Operation,
		OrdersPlaced:      1,
		ProcessingLatency: []float64{12, 25, 40},
		PayloadSize:       2048,
		RequestID:         requestID,
		FunctionVersion:   os.Getenv("AWS_LAMBDA_FUNCTION_VERSION"),
	}
	b, err := json.Marshal(ev)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// monitoringLines are Datadog's MONITORING log lines: a count, a gauge and
// two histogram values.
func monitoringLines(now time.Time) []string {
	ts := strconv.FormatInt(now.Unix(), 10)
	return []string{
		"MONITORING|" + ts + "|1|count|checkout.orders|#service:checkout,operation:place_order",
		"MONITORING|" + ts + "|3|gauge|checkout.cart_items|#service:checkout",
		"MONITORING|" + ts + "|0.25|histogram|checkout.step_seconds|#service:checkout,step:payment",
		"MONITORING|" + ts + "|0.75|histogram|checkout.step_seconds|#service:checkout,step:payment",
	}
}

// sendDogStatsD sends one of each common DogStatsD type.
func sendDogStatsD(c *statsd.Client) {
	svc := []string{"service:checkout"}
	_ = c.Incr("checkout.requests", []string{"service:checkout", "operation:place_order"}, 1)
	_ = c.Gauge("checkout.queue_depth", 7, svc, 1)
	_ = c.Histogram("checkout.item_price", 9.5, svc, 1)
	_ = c.Histogram("checkout.item_price", 20.5, svc, 1)
	_ = c.Distribution("checkout.payload_bytes", 2048, svc, 1)
	_ = c.Timing("checkout.db_query", 15*time.Millisecond, []string{"service:checkout", "db:orders"}, 1)
}

func main() {
	var err error
	dd, err = newStatsd()
	if err != nil {
		fmt.Fprintln(os.Stderr, "dogstatsd disabled:", err)
	}
	lambda.Start(handler)
}
