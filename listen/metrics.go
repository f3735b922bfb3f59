package listen

// The families of the kernel drop counters (the Lambda extension delivers
// them with its metrics).
const (
	MetricDogStatsDDrops = "lambdabridge_dogstatsd_kernel_dropped_datagrams_total"
	MetricEMFAgentDrops  = "lambdabridge_emf_agent_kernel_dropped_datagrams_total"
)
