package redistest

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Cluster is a Redis Cluster of three primaries, each a Server of its own
// on a free loopback port, with every hash slot assigned.
type Cluster struct {
	// Nodes are the cluster's primaries.
	Nodes []*Server
}

// StartCluster starts three redis-server processes with cluster mode on,
// joins them with redis-cli --cluster create and waits until the cluster
// reports cluster_state:ok. Without redis-server or redis-cli the test is
// skipped, except under CI=true, where it fails.
func StartCluster(tb testing.TB) *Cluster {
	tb.Helper()
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("redis-cli not found (apt-get install redis-tools): %v", err)
		}
		tb.Skipf("redis-cli not found (apt-get install redis-tools): %v", err)
	}
	c := &Cluster{}
	for range 3 {
		// Each node keeps its cluster state in its own folder (Start
		// gives each one a temporary folder as its --dir).
		c.Nodes = append(c.Nodes, Start(tb, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args := []string{"--cluster", "create"}
	for _, n := range c.Nodes {
		args = append(args, n.Addr)
	}
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.CommandContext(ctx, cli, args...).CombinedOutput(); err != nil {
		tb.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	for {
		out, err := exec.CommandContext(ctx, cli, "-h", "127.0.0.1", "-p", c.Nodes[0].port(), "cluster", "info").CombinedOutput()
		if err == nil && strings.Contains(string(out), "cluster_state:ok") {
			return c
		}
		select {
		case <-ctx.Done():
			tb.Fatalf("the cluster did not reach cluster_state:ok within 30s: %v\n%s", err, out)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// URL returns the redis:// URL of the cluster's first node, as an
// operator would configure it.
func (c *Cluster) URL() string { return c.Nodes[0].URL("") }

// port returns the server's port.
func (s *Server) port() string {
	_, port, _ := strings.Cut(s.Addr, ":")
	return port
}
