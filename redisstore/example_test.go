package redisstore_test

import (
	"context"
	"fmt"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/chatwire/chatwire/core"
	"github.com/chatwire/chatwire/envelope"
	"github.com/chatwire/chatwire/redisstore"
	"github.com/chatwire/chatwire/storage"
)

// Two Stores on one Redis stand for two hub instances: a record appended through one is
// delivered to the other's subscriber, and either can replay the history.
func ExampleNew() {
	mr, err := miniredis.Run() // in production: the address of your Redis
	if err != nil {
		panic(err)
	}
	defer mr.Close()
	client := redis.NewClient(&redis.Options{Addr: mr.Addr(), ContextTimeoutEnabled: true})
	defer client.Close()

	ctx := context.Background()
	instanceA, err := redisstore.New(client, redisstore.Options{})
	if err != nil {
		panic(err)
	}
	defer instanceA.Close()
	instanceB, err := redisstore.New(client, redisstore.Options{})
	if err != nil {
		panic(err)
	}
	defer instanceB.Close()

	delivered := make(chan storage.Record, 1)
	cancel, err := instanceB.Subscribe(ctx, "room-1", func(n storage.Notification) {
		if !n.Resync {
			delivered <- n.Record // must not block: the channel has room
		}
	})
	if err != nil {
		panic(err)
	}
	defer cancel()

	msg := core.Message{ID: "m-1", Type: core.TypeMessage, Role: core.RoleUser, Content: "hello", Timestamp: envelope.NowMillis()}
	rec, err := instanceA.Append(ctx, "room-1", msg, 1000)
	if err != nil {
		panic(err)
	}
	fmt.Println("appended seq", rec.Seq)
	got := <-delivered
	fmt.Println("instance B got seq", got.Seq, got.Message.Content)

	seq, ok, _ := instanceB.Lookup(ctx, "room-1", "m-1")
	page, _ := instanceB.Read(ctx, "room-1", 0)
	fmt.Println("lookup", seq, ok, "head", page.Head, "records", len(page.Records))
	// Output:
	// appended seq 1
	// instance B got seq 1 hello
	// lookup 1 true head 1 records 1
}
