package compare

// Prices used for the monthly cost estimate, us-east-1, as published on
// the AWS pricing pages (aws.amazon.com/lambda/pricing,
// aws.amazon.com/prometheus/pricing) on 2024-11-15. Check them before you
// rely on the estimate: prices change and differ per region.
const (
	PricesDate = "2024-11-15"
	// Lambda duration, per GB-second, first pricing tier.
	LambdaUSDPerGBSecondX86   = 0.0000166667
	LambdaUSDPerGBSecondArm64 = 0.0000133334
	// Amazon Managed Service for Prometheus, metric samples ingested, first
	// 2 billion samples a month: $0.90 per 10 million samples.
	AMPUSDPerMillionSamples = 0.09
)

// Prices are the prices a report used.
type Prices struct {
	Date                    string  `json:"date"`
	LambdaUSDPerGBSecond    float64 `json:"lambda_usd_per_gb_second"`
	IngestionUSDPerMillion  float64 `json:"ingestion_usd_per_million_samples"`
	IngestionPriceReference string  `json:"ingestion_price_reference"`
}

func pricesFor(arch string) Prices {
	p := Prices{Date: PricesDate, LambdaUSDPerGBSecond: LambdaUSDPerGBSecondX86,
		IngestionUSDPerMillion: AMPUSDPerMillionSamples, IngestionPriceReference: "Amazon Managed Service for Prometheus, first tier"}
	if arch == "arm64" {
		p.LambdaUSDPerGBSecond = LambdaUSDPerGBSecondArm64
	}
	return p
}
