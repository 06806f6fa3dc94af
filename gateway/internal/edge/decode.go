package edge

import (
	"fmt"
	"io"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/encoding/protojson"
)

// marshaler decodes request bodies as Oneflow and REST callers send them:
// unknown fields are discarded (Oneflow adds attributes over time), snake_case
// and lowerCamel names are both accepted, and decoding errors are shortened so
// they never echo the caller's values.
type marshaler struct {
	runtime.JSONPb
}

func newMarshaler() *marshaler {
	return &marshaler{JSONPb: runtime.JSONPb{
		MarshalOptions: protojson.MarshalOptions{
			UseProtoNames:   true,
			EmitUnpopulated: true,
		},
		UnmarshalOptions: protojson.UnmarshalOptions{
			DiscardUnknown: true,
		},
	}}
}

// NewDecoder wraps JSONPb's decoder so a malformed body becomes a short,
// value-free reason.
func (m *marshaler) NewDecoder(r io.Reader) runtime.Decoder {
	return runtime.DecoderFunc(func(v any) error {
		if err := m.JSONPb.NewDecoder(r).Decode(v); err != nil {
			if err == io.EOF {
				return fmt.Errorf("malformed JSON: empty body")
			}
			return fmt.Errorf("malformed JSON: %s", shortReason(err))
		}
		return nil
	})
}
