package config

import (
	"fmt"

	"github.com/lambdabridge/lambdabridge/aggregate"
	"github.com/lambdabridge/lambdabridge/mapping"
)

// Mapper builds the aggregator's mapper from the file's mapping rules (nil:
// the default translation).
func (f *File) Mapper() (aggregate.Mapper, error) {
	if f.mappingDoc == nil {
		return nil, nil
	}
	m, err := mapping.FromNode(f.mappingDoc)
	if err != nil {
		return nil, fmt.Errorf("mappings: %w", err)
	}
	return m, nil
}
