package oneflow

import "time"

// This file holds every choice flexflow makes where Oneflow's public
// documentation (specs/oneflow-api.md) leaves a gap. Each is marked (gap) and
// says why it was chosen, so that when Oneflow documents the behaviour there is
// exactly one place to change in the client, and the sandbox (which follows the
// same choices, see the "Sandbox behaviour" section) can be checked against it.

// Paths whose shape is not documented and follows Oneflow's REST pattern.
const (
	// (gap) The batch data-field update is documented as `PUT
	// /contracts/{id}/data_fields`, but not the name of the wrapper: we send
	// {"data_fields":[{"_private_ownerside":{"custom_id":…},"value":…}]} because
	// that is the name the single-field call and the contract use for the list.
	pathContractDataFields = "/contracts/%d/data_fields"
	dataFieldsWrapperKey   = "data_fields"

	// (gap) Update and remove a participant: PUT and DELETE on the participant's
	// own path under its party, by REST pattern (the add call is documented as
	// POST on the collection).
	pathParticipant = "/contracts/%d/parties/%d/participants/%d"

	// (gap) Template types: GET/POST /template_types (paged like every list),
	// GET /template_types/{id}, GET /template_types/{id}/data_fields ({count,
	// data}), and PUT /template_types/{id}/data_fields with {"data_fields":[…]}.
	// Oneflow documents that this PUT REPLACES the whole set (fields missing from
	// the request are deleted from the type and from every template using it),
	// which is why EnsureTemplateTypeFields reads first and re-sends every field
	// it read, byte for byte, next to the ones it adds.
	pathTemplateTypes          = "/template_types"
	pathTemplateType           = "/template_types/%d"
	pathTemplateTypeDataFields = "/template_types/%d/data_fields"
)

// (gap) The template type data field object: {id, custom_id, name,
// description, placeholder, value}. Only custom_id and name are needed by
// flexflow; unknown attributes of fields an admin created are preserved by
// re-sending them verbatim.

// (gap) Users: no email filter is documented, so FindActiveUserByEmail pages
// through GET /users with the largest allowed page (limit 100) and keeps a
// case-insensitive index of active users for UserCacheTTL.
const (
	usersPageLimit = MaxPageLimit
	// DefaultUserCacheTTL is how long the index of active users is trusted; a
	// user activated in Oneflow is seen by flexflow at most this late.
	DefaultUserCacheTTL = 5 * time.Minute
)

// (gap) Rate limiting: Oneflow answers 429 with error_code 4290000 and no
// Retry-After, after 2000 requests per 5 minutes per token. The client waits
// DefaultRateLimitBackoff (±20% jitter) after each 429 and gives up with
// ErrRateLimited once the next wait would take the total past
// DefaultRateLimitMaxWait; callers (contract-sync, document-archive) own the
// long retry budget of hours. Writes are retried on 429 too: a 429 is a refusal
// before any effect, so repeating the request cannot apply it twice. Writes are
// never retried on 5xx or network errors, where the effect may have happened.
const (
	DefaultRateLimitBackoff = 30 * time.Second
	DefaultRateLimitMaxWait = 90 * time.Second
	// rateLimitJitter spreads the waits of replicas that were refused together.
	rateLimitJitter = 0.2
)

// (gap) Paging links: {_links:{next:{href}, previous:{href}, self:{href}}}
// with a null or missing href when there is no such page. The client pages by
// offset and count as well, so it does not depend on the link shape.

// (gap) Error body "type": a URL naming the kind of error; the client keeps it
// as an opaque string. When a body carries no request_id (e.g. a proxy's 502
// page), the client falls back to the X-Request-Id response header.
const requestIDHeader = "X-Request-Id"

// (gap) Webhook callback ids: Oneflow's are hex strings. DecodeNotification
// accepts 1 to maxCallbackIDLength printable ASCII characters without spaces,
// because the id travels on as a NATS message id (a header) and must not carry
// line breaks.
const maxCallbackIDLength = 256

// (gap) contract:create is not in Oneflow's public list of webhook events; it is
// accepted like every documented one (EventContractCreate).

// (gap) Files: the contract PDF is file id 1 and `?download=true` answers a 302
// to a storage URL. The storage URL is a different origin: the client never
// sends the API token or the user email there, and does not trace its query
// string (presigned storage URLs carry a signature in it).

// Sandbox behaviour (libs/oneflow/sandbox), where Oneflow's behaviour is not
// documented:
//   - (gap) data_field:update is emitted once per field whose value actually
//     changed, whether changed in the app or through the Public API (single or
//     batch); writing the same value again emits nothing.
//   - (gap) Data fields can be written through the API only while the contract
//     is a draft (409 otherwise); participants can be added, updated and
//     removed while draft or pending.
//   - (gap) Renaming emits no webhook; renaming a declined contract is a 409.
//   - (gap) A new contract takes its template's name; the owner-side party is
//     the seeded company with its organizer as a signatory, so "signed" needs
//     the owner side to sign too.
//   - (gap) Validation errors are 400 with error_code 4000000 and
//     parameter_problems keyed by the parameter (e.g. "data_fields[0].value").
//   - (gap) A storage key for file 1 lives StorageKeyTTL (5 minutes) and can
//     be used any number of times within it.
//   - (gap) Without a webhook URL configured, notifications are recorded as
//     "skipped" and never sent.
