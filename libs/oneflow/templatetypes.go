package oneflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// GetTemplateType reads one template type.
func (c *Client) GetTemplateType(ctx context.Context, templateTypeID int64) (TemplateType, error) {
	cl, err := newCall(http.MethodGet, "/template_types/{id}", fmt.Sprintf(pathTemplateType, templateTypeID), nil, nil)
	if err != nil {
		return TemplateType{}, err
	}
	var tt TemplateType
	if err := c.doJSON(ctx, cl, &tt); err != nil {
		return TemplateType{}, err
	}
	return tt, nil
}

// ListTemplateTypes reads every template type of the account, page by page.
func (c *Client) ListTemplateTypes(ctx context.Context) ([]TemplateType, error) {
	return listAll[TemplateType](ctx, c, "/template_types", pathTemplateTypes)
}

// CreateTemplateType creates a template type without data fields.
func (c *Client) CreateTemplateType(ctx context.Context, tt NewTemplateType) (TemplateType, error) {
	if strings.TrimSpace(tt.Name) == "" {
		return TemplateType{}, errors.New("oneflow: CreateTemplateType: a name is required")
	}
	cl, err := newCall(http.MethodPost, "/template_types", pathTemplateTypes, nil, tt)
	if err != nil {
		return TemplateType{}, err
	}
	var created TemplateType
	if err := c.doJSON(ctx, cl, &created); err != nil {
		return TemplateType{}, err
	}
	return created, nil
}

// ListTemplateTypeDataFields reads the data fields a template type defines.
func (c *Client) ListTemplateTypeDataFields(ctx context.Context, templateTypeID int64) ([]TemplateTypeDataField, error) {
	raws, err := c.listTemplateTypeDataFieldsRaw(ctx, templateTypeID)
	if err != nil {
		return nil, err
	}
	return parseTemplateTypeDataFields(raws)
}

func parseTemplateTypeDataFields(raws []json.RawMessage) ([]TemplateTypeDataField, error) {
	fields := make([]TemplateTypeDataField, 0, len(raws))
	for _, raw := range raws {
		var f TemplateTypeDataField
		if err := json.Unmarshal(raw, &f); err != nil {
			return nil, &decodeError{op: "GET /template_types/{id}/data_fields", err: err}
		}
		fields = append(fields, f)
	}
	return fields, nil
}

func (c *Client) listTemplateTypeDataFieldsRaw(ctx context.Context, templateTypeID int64) ([]json.RawMessage, error) {
	return listAll[json.RawMessage](ctx, c, "/template_types/{id}/data_fields",
		fmt.Sprintf(pathTemplateTypeDataFields, templateTypeID))
}

// SetTemplateTypeDataFields REPLACES the data fields of a template type:
// Oneflow updates the fields given (matched by id), creates the new ones and
// DELETES every field left out, from the type and from all its templates.
// Prefer EnsureTemplateTypeFields, which never drops a field.
func (c *Client) SetTemplateTypeDataFields(ctx context.Context, templateTypeID int64, fields []TemplateTypeDataField) error {
	raws := make([]json.RawMessage, 0, len(fields))
	for _, f := range fields {
		b, err := json.Marshal(f)
		if err != nil {
			return fmt.Errorf("oneflow: SetTemplateTypeDataFields: encoding a field: %w", err)
		}
		raws = append(raws, b)
	}
	return c.setTemplateTypeDataFieldsRaw(ctx, templateTypeID, raws)
}

func (c *Client) setTemplateTypeDataFieldsRaw(ctx context.Context, templateTypeID int64, raws []json.RawMessage) error {
	body := map[string]any{dataFieldsWrapperKey: raws}
	cl, err := newCall(http.MethodPut, "/template_types/{id}/data_fields",
		fmt.Sprintf(pathTemplateTypeDataFields, templateTypeID), nil, body)
	if err != nil {
		return err
	}
	return c.doJSON(ctx, cl, nil)
}

// EnsureResult reports what EnsureTemplateTypeFields found and changed.
type EnsureResult struct {
	TemplateType TemplateType
	// Created is true when no template type had the name and one was created.
	Created bool
	// Added lists the custom ids that were missing and were added.
	Added []string
	// Kept is how many fields the type already had (all of them kept).
	Kept int
}

// EnsureTemplateTypeFields makes sure a template type named typeName exists
// (case-insensitively; created when missing) and holds a data field for every
// custom id in fields. It reads the type's fields first and, only when some are
// missing, writes the whole set back: every field it read, byte for byte, plus
// the missing ones. A field an admin added is never dropped, and a field that
// exists with the same custom id is left as the admin set it. The read-then-
// write is not atomic at Oneflow: a field an admin adds in the same instant
// can be lost, which is why setup is an operator's command, not a loop.
func (c *Client) EnsureTemplateTypeFields(ctx context.Context, typeName string, fields []TemplateTypeDataField) (EnsureResult, error) {
	name := strings.TrimSpace(typeName)
	if name == "" {
		return EnsureResult{}, errors.New("oneflow: EnsureTemplateTypeFields: a template type name is required")
	}
	seen := make(map[string]bool, len(fields))
	for _, f := range fields {
		if f.CustomID == "" || strings.TrimSpace(f.Name) == "" {
			return EnsureResult{}, errors.New("oneflow: EnsureTemplateTypeFields: every field needs a custom id and a name")
		}
		if seen[f.CustomID] {
			return EnsureResult{}, fmt.Errorf("oneflow: EnsureTemplateTypeFields: custom id %q given twice", f.CustomID)
		}
		seen[f.CustomID] = true
	}

	types, err := c.ListTemplateTypes(ctx)
	if err != nil {
		return EnsureResult{}, err
	}
	var result EnsureResult
	var matches []TemplateType
	for _, tt := range types {
		if strings.EqualFold(strings.TrimSpace(tt.Name), name) {
			matches = append(matches, tt)
		}
	}
	switch len(matches) {
	case 0:
		created, err := c.CreateTemplateType(ctx, NewTemplateType{Name: name})
		if err != nil {
			return EnsureResult{}, err
		}
		result.TemplateType, result.Created = created, true
	case 1:
		result.TemplateType = matches[0]
	default:
		return EnsureResult{}, fmt.Errorf("oneflow: %d template types are named %q: rename all but one", len(matches), name)
	}

	raws, err := c.listTemplateTypeDataFieldsRaw(ctx, result.TemplateType.ID)
	if err != nil {
		return EnsureResult{}, err
	}
	existing, err := parseTemplateTypeDataFields(raws)
	if err != nil {
		return EnsureResult{}, err
	}
	have := make(map[string]bool, len(existing))
	for _, f := range existing {
		have[f.CustomID] = true
	}
	result.Kept = len(existing)

	next := append([]json.RawMessage(nil), raws...)
	for _, f := range fields {
		if have[f.CustomID] {
			continue
		}
		f.ID = 0
		b, err := json.Marshal(f)
		if err != nil {
			return EnsureResult{}, fmt.Errorf("oneflow: EnsureTemplateTypeFields: encoding a field: %w", err)
		}
		next = append(next, b)
		result.Added = append(result.Added, f.CustomID)
	}
	if len(result.Added) == 0 {
		return result, nil
	}
	if err := c.setTemplateTypeDataFieldsRaw(ctx, result.TemplateType.ID, next); err != nil {
		return EnsureResult{}, err
	}
	return result, nil
}

// listAll pages through a list call with the largest pages Oneflow allows.
func listAll[T any](ctx context.Context, c *Client, template, path string) ([]T, error) {
	var all []T
	for offset := 0; offset <= MaxPageOffset; offset += MaxPageLimit {
		query := url.Values{"limit": {strconv.Itoa(MaxPageLimit)}, "offset": {strconv.Itoa(offset)}}
		cl, err := newCall(http.MethodGet, template, path, query, nil)
		if err != nil {
			return nil, err
		}
		var env listEnvelope[T]
		if err := c.doJSON(ctx, cl, &env); err != nil {
			return nil, err
		}
		all = append(all, env.Data...)
		if !env.hasNext(offset) || len(env.Data) == 0 {
			break
		}
	}
	return all, nil
}
