package config

import "github.com/lambdabridge/lambdabridge/aggregate"

// mapper builds the aggregator's mapper from the file's mapping rules (nil:
// the default translation).
func (f *File) mapper() (aggregate.Mapper, error) {
	if len(f.Mappings) == 0 {
		return nil, nil
	}
	return nil, errMappingsUnsupported
}

var errMappingsUnsupported = errorString("mappings: not supported by this build")

type errorString string

func (e errorString) Error() string { return string(e) }
