package main

import (
	"context"
	"net/http"
	"time"

	"github.com/centrifugal/centrifuge"
)

// centrifugeHandler serves centrifuge with the memory broker, or with the Redis broker when
// redisAddr is set: history of historySize per channel (one channel per session), recovery
// on. A client publishes its message into its session's channel (the server decodes and
// stamps it as the others do, and publishes it with history); the server then publishes the
// reply with history.
func centrifugeHandler(redisAddr string) (http.Handler, func(), error) {
	node, err := centrifuge.New(centrifuge.Config{LogLevel: centrifuge.LogLevelNone, HistoryMetaTTL: time.Hour})
	if err != nil {
		return nil, nil, err
	}
	if redisAddr != "" {
		shard, err := centrifuge.NewRedisShard(node, centrifuge.RedisShardConfig{Address: redisAddr})
		if err != nil {
			return nil, nil, err
		}
		broker, err := centrifuge.NewRedisBroker(node, centrifuge.RedisBrokerConfig{Shards: []*centrifuge.RedisShard{shard}})
		if err != nil {
			return nil, nil, err
		}
		node.SetBroker(broker)
	}
	node.OnConnecting(func(ctx context.Context, e centrifuge.ConnectEvent) (centrifuge.ConnectReply, error) {
		return centrifuge.ConnectReply{Credentials: &centrifuge.Credentials{UserID: "bench"}}, nil
	})
	node.OnConnect(func(client *centrifuge.Client) {
		client.OnSubscribe(func(e centrifuge.SubscribeEvent, cb centrifuge.SubscribeCallback) {
			cb(centrifuge.SubscribeReply{Options: centrifuge.SubscribeOptions{EnableRecovery: true}}, nil)
		})
		client.OnPublish(func(e centrifuge.PublishEvent, cb centrifuge.PublishCallback) {
			user, reply, err := userAndReply(e.Data)
			if err != nil {
				cb(centrifuge.PublishReply{}, centrifuge.ErrorBadRequest)
				return
			}
			res, err := node.Publish(e.Channel, user, centrifuge.WithHistory(historySize, time.Hour))
			cb(centrifuge.PublishReply{Result: &res}, err)
			if err == nil {
				_, _ = node.Publish(e.Channel, reply, centrifuge.WithHistory(historySize, time.Hour))
			}
		})
	})
	if err := node.Run(); err != nil {
		return nil, nil, err
	}
	h := centrifuge.NewWebsocketHandler(node, centrifuge.WebsocketConfig{})
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = node.Shutdown(ctx)
	}
	return h, stop, nil
}
