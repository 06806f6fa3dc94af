package edge

import "strings"

// routeTemplate maps a request path to its route template for span names, so
// ids (contract ids, employee numbers) never become part of a span name.
func routeTemplate(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case len(parts) == 3 && parts[0] == "v1" && parts[1] == "webhooks":
		return "/v1/webhooks/" + parts[2]
	case len(parts) == 2 && parts[0] == "v1":
		return "/v1/" + parts[1]
	case len(parts) == 3 && parts[0] == "v1" && parts[1] == "employees":
		return "/v1/employees/{employee_number}"
	case len(parts) == 3 && parts[0] == "v1" && parts[1] == "contracts" && strings.HasSuffix(parts[2], ":replay"):
		return "/v1/contracts/{contract_id}:replay"
	case len(parts) == 4 && parts[0] == "v1" && parts[1] == "contracts" && parts[3] == "sync":
		return "/v1/contracts/{contract_id}/sync"
	default:
		return "/other"
	}
}
