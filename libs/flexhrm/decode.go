package flexhrm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Page is one page of a list: the model's envelope
// {"pageIndex","pageSize","totalCount","items"}. TotalCount is -1 when the
// server did not say (a bare array, or an envelope without a count).
type Page[T any] struct {
	PageIndex  int `json:"pageIndex"`
	PageSize   int `json:"pageSize"`
	TotalCount int `json:"totalCount"`
	Items      []T `json:"items"`
}

// listShape is what decodeList learnt about paging besides the items.
type listShape struct {
	bare       bool // a bare JSON array: no paging information at all
	totalCount int  // -1 when absent
	pageIndex  int  // -1 when absent
	pageSize   int  // -1 when absent
}

// decodeList reads a list in any of the tolerated shapes: a bare array, or an
// object whose items are under items/Items/data (any case).
func decodeList[T any](body []byte) ([]T, listShape, error) {
	shape := listShape{totalCount: -1, pageIndex: -1, pageSize: -1}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, shape, fmt.Errorf("%w: empty body where a list was expected", ErrUnexpectedResponse)
	}
	switch trimmed[0] {
	case '[':
		var items []T
		if err := json.Unmarshal(trimmed, &items); err != nil {
			return nil, shape, fmt.Errorf("%w: list items: %s", ErrUnexpectedResponse, jsonProblem(err))
		}
		shape.bare = true
		return items, shape, nil
	case '{':
		var env map[string]json.RawMessage
		if err := json.Unmarshal(trimmed, &env); err != nil {
			return nil, shape, fmt.Errorf("%w: list envelope: %s", ErrUnexpectedResponse, jsonProblem(err))
		}
		raw, ok := lookupFold(env, "items")
		if !ok {
			raw, ok = lookupFold(env, "data")
		}
		if !ok {
			return nil, shape, fmt.Errorf("%w: list envelope has neither items nor data", ErrUnexpectedResponse)
		}
		var items []T
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, shape, fmt.Errorf("%w: list items: %s", ErrUnexpectedResponse, jsonProblem(err))
		}
		shape.totalCount = intFold(env, "totalCount")
		shape.pageIndex = intFold(env, "pageIndex")
		shape.pageSize = intFold(env, "pageSize")
		return items, shape, nil
	default:
		return nil, shape, fmt.Errorf("%w: body is not JSON", ErrUnexpectedResponse)
	}
}

// decodeObject reads one JSON object; encoding/json already matches property
// names case-insensitively, which covers PascalCase.
func decodeObject[T any](body []byte) (T, error) {
	var v T
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return v, fmt.Errorf("%w: body is not a JSON object", ErrUnexpectedResponse)
	}
	if err := json.Unmarshal(trimmed, &v); err != nil {
		return v, fmt.Errorf("%w: %s", ErrUnexpectedResponse, jsonProblem(err))
	}
	return v, nil
}

// jsonProblem describes a decoding error without quoting the document (which
// may hold personal data): encoding/json's messages name types and fields only,
// except syntax errors, which are reduced to their offset.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return "malformed JSON at offset " + strconv.FormatInt(syn.Offset, 10)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return fmt.Sprintf("property %q has the wrong type (%s, want %s)", typ.Field, typ.Value, typ.Type)
	}
	// Errors from our own UnmarshalJSON methods (dates) are written to be safe;
	// scrub anyway.
	return scrub(err.Error())
}

func lookupFold(m map[string]json.RawMessage, key string) (json.RawMessage, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return nil, false
}

func intFold(m map[string]json.RawMessage, key string) int {
	raw, ok := lookupFold(m, key)
	if !ok {
		return -1
	}
	var n int
	if err := json.Unmarshal(raw, &n); err != nil || n < 0 {
		return -1
	}
	return n
}

func stringFold(m map[string]json.RawMessage, key string) string {
	raw, ok := lookupFold(m, key)
	if !ok {
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		return n.String()
	}
	return ""
}

// decodeErrorBody reads {"code","message","errors"} and its tolerated
// variants (Message, title, detail, ProblemDetails). It never fails: an
// unreadable body just yields nothing.
func decodeErrorBody(body []byte) errorBody {
	var eb errorBody
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return eb
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &m); err != nil {
		return eb
	}
	eb.code = stringFold(m, "code")
	for _, key := range []string{"message", "detail", "title"} {
		if s := stringFold(m, key); s != "" {
			if eb.message == "" {
				eb.message = s
			}
			eb.messages = append(eb.messages, s)
		}
	}
	if raw, ok := lookupFold(m, "errors"); ok {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(raw, &fields); err == nil {
			for name, v := range fields {
				eb.fields = append(eb.fields, scrub(name))
				var list []string
				if err := json.Unmarshal(v, &list); err == nil {
					eb.messages = append(eb.messages, list...)
					continue
				}
				var one string
				if err := json.Unmarshal(v, &one); err == nil {
					eb.messages = append(eb.messages, one)
				}
			}
			eb.fields = sortedUnique(eb.fields)
		}
	}
	return eb
}
