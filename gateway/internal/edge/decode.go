package edge

import (
	"bytes"
	"fmt"
	"io"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
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

// NewDecoder decodes the whole body as one JSON document: protojson refuses
// anything after the first value (JSONPb's stream decoder would stop there
// and let trailing garbage through), and a malformed body becomes a short,
// value-free reason. Bodies are already bounded to 1 MiB by limitBody.
func (m *marshaler) NewDecoder(r io.Reader) runtime.Decoder {
	return runtime.DecoderFunc(func(v any) error { return m.decodeBody(r, v) })
}

// decodeBody decodes r into v (a proto message or any other value).
func (m *marshaler) decodeBody(r io.Reader, v any) error {
	data, err := bodyBytes(r)
	if err != nil {
		return fmt.Errorf("malformed JSON: could not read the body")
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return fmt.Errorf("malformed JSON: empty body")
	}
	if msg, ok := v.(proto.Message); ok {
		err = m.UnmarshalOptions.Unmarshal(data, msg)
	} else {
		err = m.JSONPb.NewDecoder(bytes.NewReader(data)).Decode(v)
	}
	if err != nil {
		return fmt.Errorf("malformed JSON: %s", shortReason(err))
	}
	return nil
}
