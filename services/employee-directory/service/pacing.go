package service

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/flexflow/flexflow/libs/flexhrm"
	"github.com/flexflow/flexflow/libs/natsx"
)

// pacingLink is this service's side of the Flex HRM pacing it shares with
// document-archive over NATS (see Config.NATSURL); without NATS_URL it
// links nothing.
type pacingLink struct {
	conn     *natsx.Conn
	refusals *natsx.Refusals
}

func linkPacing(ctx context.Context, cfg Config, creds flexhrm.Credentials, logger *slog.Logger) (*pacingLink, error) {
	if cfg.NATSURL == "" {
		logger.Info("NATS_URL is not set: Flex HRM pacing is not shared with document-archive")
		return &pacingLink{}, nil
	}
	conn, err := natsx.Connect(ctx, natsx.Options{URL: cfg.NATSURL, Name: Name, Logger: logger.With("component", "nats"), NoWait: true})
	if err != nil {
		return nil, fmt.Errorf("config: NATS_URL: %w", err)
	}
	refusals, err := natsx.NewRefusals(conn.NC, flexhrm.RateLimitKey(creds), logger)
	if err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("service: %w", err)
	}
	return &pacingLink{conn: conn, refusals: refusals}, nil
}

// peers is what the Flex HRM client tells of its refusals (nil: nobody).
func (l *pacingLink) peers() flexhrm.PacingPeers {
	if l.refusals == nil {
		return nil
	}
	return l.refusals
}

// listen passes the peers' refusals to f.
func (l *pacingLink) listen(f func(time.Duration)) error {
	if l.refusals == nil {
		return nil
	}
	if err := l.refusals.Listen(f); err != nil {
		return fmt.Errorf("service: %w", err)
	}
	return nil
}

func (l *pacingLink) close() {
	if l.conn != nil {
		_ = l.refusals.Close()
		_ = l.conn.Close()
	}
}
