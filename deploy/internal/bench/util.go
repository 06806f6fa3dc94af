package bench

import (
	"net/url"

	"github.com/flexflow/flexflow/libs/config"
)

func mustURL(s string) config.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return config.URL{URL: u}
}
