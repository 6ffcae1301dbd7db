package redisstore_test

import (
	"testing"

	"github.com/redis/go-redis/v9"
)

// TestConformanceCluster runs the suite through redis.ClusterClient against a three-node
// Redis Cluster that the test starts (redis-server and redis-cli from PATH). Each session's
// keys share a slot thanks to the {sessionID} hash tag; pub/sub uses plain SUBSCRIBE, which
// a cluster broadcasts to every node, so a subscriber on any node sees every append.
func TestConformanceCluster(t *testing.T) {
	addrs := startCluster(t)
	newClient := func() *redis.ClusterClient {
		c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	a, b := newClient(), newClient()
	runConformance(t, func(t *testing.T) (redis.UniversalClient, redis.UniversalClient) { return a, b })
}
