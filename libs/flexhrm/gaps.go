package flexhrm

import "time"

// This file is the one place where the gaps of shared/specs/flexhrm-api.md are
// filled. The specification marks what public material shows; everything below
// is a choice flexflow made where it is silent. The sandbox imports these
// constants, so client and sandbox cannot drift apart. Each choice is the
// strictest plausible reading: the client is never more lenient than the model.
//
// Connection
//   - (gap) A customer number the API does not know is answered 401 with code
//     CodeUnknownInstance; wrong username or password is 401 with code
//     "Unauthorized". Check tells the two apart by that code (or, with a real
//     Flex HRM, by "instance" in the 401 message).
//   - (gap) Check blames the API root for: DNS "no such host", connection
//     refused, TLS failures, any 3xx (redirects are never followed, so the
//     Authorization header never travels to another host), 404, 405, and a
//     2xx whose body is not a JSON list.
//   - (gap) ParseCredentials trims surrounding white space of the base64 text
//     (secret files end in a newline), accepts padded standard base64 only, and
//     refuses white space or control characters anywhere in the decoded
//     customer:user:password ("no spaces" in the spec).
//
// Reading
//   - (gap) A date with a time of day other than midnight is refused rather than
//     truncated: "2023-12-31T23:00:00Z" is Swedish midnight of the next day, and a
//     silent off-by-one is worse than an error. Offsets other than Z are refused.
//   - (gap) Paging: the client asks for MaxPageSize items per page and stops at
//     totalCount, at a short or empty page, when the server ignored paging (a
//     bare array, or more items than asked), or after maxPages pages.
//   - (gap) P1 results are filtered to employees whose employment list contains
//     the number asked for; an employee without any employment data is kept
//     (a slimmer list shape must not hide everyone).
//   - (gap) ListEmploymentTitles(activeOnly) also drops inactive titles the server
//     returned anyway.
//   - (gap) Error messages are taken from message, then detail, then title; the
//     overlap rule reads all of them and the per-field messages.
//   - (gap) Every 5xx maps to ErrUnavailable; only 502, 503 and 504 are retried
//     (the spec's list), a 500 is returned at once.
//   - (gap) DNS "no such host" and TLS certificate failures are not retried:
//     they are configuration errors, not weather.
//   - (gap) Document.created is read as RFC 3339, or without a zone (taken as
//     UTC), or as a date alone.
//
// Writing
//   - (gap) PUT re-sends every property read, including ones this model does not
//     know, so a real Flex HRM with a richer Employee is not wiped by a PUT. An
//     empty string keeps the representation it was read with (null or "");
//     a new object writes null. A create omits an empty "id".
//   - (gap) A PUT answered 204 without a body is followed by a GET of the object.
//   - (gap) The client refuses before asking what cannot succeed: a period
//     without companyId/employeeId/instanceId/fromDate or ending before it
//     starts (ErrValidation), a PDF known or counted to be over MaxUploadBytes
//     (ErrPayloadTooLarge, without sending the rest), an upload whose Size is 0
//     or does not match the bytes. Title length is left to the server, the
//     authority on it (ErrNameTooLong).
//   - (gap) The multipart body is streamed as prefix + PDF + closing boundary
//     (io.MultiReader, no goroutine), so a known Size gives an exact
//     Content-Length; an unknown one (-1) is sent chunked.
//   - (gap) Uploads have their own timeout (Options.UploadTimeout, default 10
//     minutes) because RequestTimeout is sized for small JSON calls. The part's
//     filename is the document title.
//
// Sandbox model (what the sandbox enforces beyond the spec's words)
//   - (gap) The API lives under /api on the sandbox host; anything outside /api
//     and /_sandbox/ answers a plain-text 404, like a web server that is not
//     Flex HRM, so a wrong root is visible.
//   - (gap) GET /employees without employmentnumber lists employees (paged), with
//     companyId optional; this backs ListEmployees.
//   - (gap) Unknown query parameters, pageSize outside 1..100 and pageIndex < 0
//     are 400 ValidationFailed (not silently clamped). Unknown JSON properties in a
//     request body are 400 ValidationFailed.
//   - (gap) A companyId, employeeId or category id that does not exist is 404;
//     one in a company the API user may not access is 403.
//   - (gap) PUT /employees/{id} answers 200 with the stored object; a property
//     missing from the body becomes null (PUT replaces). id, instanceId,
//     companyId, name, employment and immediateManagerEmployeeId are ignored.
//   - (gap) A period's companyId and employeeId cannot change on update (400).
//     A titleId must name a title of the period's company (400 otherwise).
//   - (gap) Dates in request bodies must be YYYY-MM-DD or YYYY-MM-DDT00:00:00.
//   - (gap) Upload: the request must be multipart/form-data (else 415) with a
//     part named "file" (else 400); that part's Content-Type must be
//     application/pdf (else 415); the order of checks is query parameters,
//     employee (404/403), category (400), title (400), then the body (415, 413).
//   - (gap) A period's instanceId must be the sandbox's instance (400).
//     PUT /employees/{id} with another id in the body is 400; names, emails
//     and phones are not otherwise validated (the spec names only the
//     national ID).
//   - (gap) Knobs act after the route is known and before authentication, in
//     the order latency, rate limit, fail-next, fail-rate; a rate limit with
//     retryAfterSeconds 0 sends the whole seconds until the next token (≥ 1).
//   - (gap) The sandbox keeps each upload's SHA-256 and size, not its bytes
//     (WithDocumentContent keeps them), and answers a refused upload only after
//     draining the body, so a client still sending sees the answer.
//   - (gap) Status codes the spec's table does not name get these codes:
//     502 BadGateway, 503 ServiceUnavailable, 504 GatewayTimeout.

// Limits and codes of the model, shared with the sandbox.
const (
	// MaxDocumentTitleLength is the longest document title Flex HRM accepts,
	// counted in Unicode characters.
	MaxDocumentTitleLength = 200
	// MaxUploadBytes is the largest document Flex HRM accepts (25 MiB).
	MaxUploadBytes = 25 << 20
	// DefaultPageSize is the page size a list answers when none is asked for.
	DefaultPageSize = 20
	// MaxPageSize is the largest page size a list accepts.
	MaxPageSize = 100
	// maxPages stops a paging loop against a server that never says "done".
	maxPages = 10_000
)

// Error codes of the model's error body.
const (
	CodeUnauthorized                        = "Unauthorized"
	CodeUnknownInstance                     = "UnknownInstance" // (gap) see above
	CodeForbidden                           = "Forbidden"
	CodeNotFound                            = "NotFound"
	CodeMethodNotAllowed                    = "MethodNotAllowed"
	CodeValidationFailed                    = "ValidationFailed"
	CodeOverlappingDates                    = "OverlappingDates"
	CodeCategoryNotUsedInEmploymentRegister = "CategoryNotUsedInEmploymentRegister"
	CodeDocumentNameTooLong                 = "DocumentNameTooLong"
	CodeUnsupportedMediaType                = "UnsupportedMediaType"
	CodePayloadTooLarge                     = "PayloadTooLarge"
	CodeRateLimited                         = "RateLimited"
	CodeInternalError                       = "InternalError"
	CodeBadGateway                          = "BadGateway"         // (gap)
	CodeServiceUnavailable                  = "ServiceUnavailable" // (gap)
	CodeGatewayTimeout                      = "GatewayTimeout"     // (gap)
)

// Defaults for Options.
const (
	defaultRequestTimeout  = 30 * time.Second
	defaultUploadTimeout   = 10 * time.Minute
	defaultMaxElapsedTime  = 30 * time.Second
	defaultInitialInterval = 250 * time.Millisecond
	defaultMaxInterval     = 5 * time.Second
	maxResponseBytes       = 16 << 20
	maxMessageRunes        = 300
)
