// Command flexflow-nats runs the embedded NATS server with JetStream as its
// own process, for `make run` and for the tests that kill and restart
// processes. Data lives under -data; a restart keeps it. With -cluster-name
// and -routes it joins a JetStream cluster (the 3-node tests).
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/flexflow/flexflow/libs/natsx"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:4222", "client address")
	data := flag.String("data", "./.flexflow", "data directory (JetStream files go under <data>/nats)")
	name := flag.String("server-name", "flexflow-nats", "server name (unique within a cluster)")
	cluster := flag.String("cluster-name", "", "join a JetStream cluster of this name")
	clusterListen := flag.String("cluster-listen", "", "route address for cluster peers")
	routes := flag.String("routes", "", "comma-separated route addresses of the other members")
	flag.Parse()

	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	startCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	var rs []string
	for _, r := range strings.Split(*routes, ",") {
		if r = strings.TrimSpace(r); r != "" {
			rs = append(rs, r)
		}
	}
	srv, err := natsx.RunServer(startCtx, natsx.ServerOptions{
		Listen: *listen, DataDir: *data, ServerName: *name,
		ClusterName: *cluster, ClusterListen: *clusterListen, Routes: rs, Logger: logger,
	})
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "flexflow-nats:", err)
		os.Exit(1)
	}
	fmt.Printf("flexflow-nats listening on %s (data directory %s)\n", srv.ClientURL(), *data)
	<-ctx.Done()
	srv.Shutdown()
	srv.WaitForShutdown()
}
