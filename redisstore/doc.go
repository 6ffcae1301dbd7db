// Package redisstore is a storage.Store backed by Redis (or Redis Cluster), for running several
// hub instances behind a load balancer: every instance sees every session's messages, and a
// client that reconnects to another instance replays what it missed.
//
//	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379", ContextTimeoutEnabled: true})
//	store, err := redisstore.New(client, redisstore.Options{})
//	if err != nil { ... }
//	defer store.Close() // before client.Close()
//
// The caller owns the client: New does not configure it and Close does not close it. Enable
// redis.Options.ContextTimeoutEnabled so that context deadlines also bound network I/O (go-redis
// otherwise applies only its own Read/WriteTimeout).
//
// # Data model
//
// Each session has these keys and one pub/sub channel, named with Options.Prefix (default
// "chatwire:") and the session id in a hash tag: the history (stream and meta), the set of
// running streams, the pending requests and, with conversations, the owner; and two keys per
// running stream (st and text):
//
//	<prefix>{<sessionID>}:stream  stream: one entry per record, entry id "<seq>-0", one
//	                              field r: "<ts>:<lp:id><lp:type><lp:role><lp:meta><content>"
//	                              (meta raw JSON, "" for none; <lp:x> as below). Entries
//	                              written by earlier versions, one field per message field
//	                              (id, type, role, content, meta, ts), are still read;
//	                              those earlier versions cannot read this one's (see
//	                              "Upgrading" below).
//	<prefix>{<sessionID>}:meta    hash: ~seq (the head), ~epoch, ~first (oldest retained
//	                              seq), ~low (oldest seq still in the stream), ~touch (last
//	                              TTL refresh, ms), and m:<message id> -> seq (the id index)
//	<prefix>{<sessionID>}:live    pub/sub channel of new records, stream events and
//	                              ephemeral messages
//	<prefix>{<sessionID>}:streams         set: ids of the running streams
//	<prefix>{<sessionID>}:st:<streamID>   hash: seq (last delta), started (ms), deadline
//	                                      (lease end, ms of the Redis server's clock)
//	<prefix>{<sessionID>}:text:<streamID> string: the stream's text so far (APPEND)
//	<prefix>{<sessionID>}:pending         hash: the pending requests (see pending.go)
//	<prefix>{<sessionID>}:owner           string: the owner that claimed the session
//
// Stream ids become part of key names, so they are checked with core.ValidSessionID before
// any I/O (the hub's are UUIDs): StreamAppend and StreamFinish report any other id as not
// running (storage.ErrStreamNotFound) and StreamCancel ignores it.
//
// Conversation directories (storage.DirectoryStore) live in the owner's slot, under a hash of
// the owner: <prefix>dir:{<hash>}:z (sorted set of conversation ids by last activity),
// <prefix>dir:{<hash>}:e (hash: id -> entry) and the channel <prefix>dir:{<hash>}:live,
// which carries the owner's directory events as ephemeral payloads on the Store's one
// pub/sub connection. A session's owner is <prefix>{<sessionID>}:owner. Directory keys and
// claims expire with the session TTL; entries idle for longer are dropped when read. See
// directory_script.go.
//
// Messages on the channel start with a digit for a record and with a letter for the other
// kinds; <lp:x> is x length-prefixed ("<len>:<bytes>") and the last part runs to the end:
//
//	record      <seq>:<ts>:<lp:epoch><lp:id><lp:type><lp:role><lp:meta><content>
//	stream end  f<lp:stream id><record>          (the final message, one notification)
//	delta       d<seq>:<started>:<lp:stream id><delta>
//	cancel      c<stream id>
//	ephemeral   e<record with seq 0, epoch "">   (Publish: typing indicators)
//
// Append runs one Lua script (EVALSHA, falling back to EVAL) of four commands: one HMGET of
// the meta hash (head, epoch, trim marks, the id's entry), XADD, one HSET (head, id index,
// trim marks) and PUBLISH — atomically, so history and live delivery always agree on order.
// Trimming is logical at once (~first follows maxLen; nothing below it is ever read, looked up
// or treated as a duplicate) and physical in batches of maxLen/4 (at most 64): then XRANGE,
// HMGET and HDEL of the trimmed ids and one exact XTRIM. The TTL is refreshed (PEXPIRE of
// both keys to 1.25×SessionTTL) at most every SessionTTL/4. Measured on a full history of
// 100: 5.2 Redis commands per stored message, EVALSHA included (TestCommandsPerMessage).
// Read and Lookup are one script each, so the page is consistent.
//
// Script calls made by concurrent callers share round trips: a Store keeps four pipeline
// workers, each taking the first waiting call and every call already waiting (up to 128)
// and sending them as one pipeline. A call made while a worker is idle goes out at once,
// alone, so a quiet Store adds no latency; under load, Redis and the Store make one read
// and one write per batch instead of per call (TestConcurrentAppendsShareRoundTrips).
// Calls of one caller stay in order, since each waits for its reply.
//
// Join (a connection joining its session) is one pipelined round trip of two scripts: one
// refreshes the TTL and reads the head, epoch, the sequence of lastMessageId and the records
// after it; the other is StreamSnapshot's. With the SUBSCRIBE of a session new to the
// instance, a reconnect makes two round trips before the 101 (TestReconnectRoundTrips).
//
// When a session's meta hash is missing (Redis restarted empty, a flush, expiry, eviction),
// the next append starts a new epoch (a string unique to the appending Store and call) at
// sequence 1; Read, Join and every record notification carry the epoch (see storage.Record).
// Only commands that miniredis also implements are used.
//
// Streams (storage.StreamStore) are scripts too. StreamAppend checks the delta's sequence (1
// starts a stream; then exactly one more than the last, or the last with an empty delta,
// which only renews the lease and publishes nothing), APPENDs the text, sets the lease
// deadline from the server's TIME, refreshes the TTL of the session's keys and PUBLISHes the
// delta. StreamSnapshot reads every running stream and judges its lease in one script, so a
// snapshot and the deltas published around it never disagree. StreamFinish deletes the
// stream's keys and appends the final message with the same Lua code as Append (duplicate
// check, XADD, trim, id index, TTL), publishing it as a stream end, in one
// script: exactly one of several concurrent StreamFinish calls for a stream succeeds, the
// others get storage.ErrStreamNotFound. StreamCancel and Publish are one PUBLISH each (sent
// from a script, so that on a cluster it leaves from the session's node like every other
// message of the session) and store nothing. Leases live in the server's clock rather than
// in PX expiries so that every instance judges them alike (and miniredis, whose TTLs only
// move with FastForward, works).
//
// # Semantics
//
//   - Sequence numbers start at 1 and grow by one per stored record; a duplicate takes none.
//   - A message id is a duplicate while a record with that id is retained: Append then stores
//     and publishes nothing and returns the existing record with storage.ErrDuplicate. Once the
//     original is trimmed away the id may be appended again, as a new record. Empty ids are
//     never duplicates.
//   - Page.Trimmed is true exactly when records with Seq > afterSeq were appended but are no
//     longer retained.
//   - Idle sessions expire between Options.SessionTTL and 1.25×SessionTTL (default 24h) after
//     their last Append; Join, every StreamAppend (a producer renews its lease every
//     StreamLease/3, so a running stream keeps its session alive) and, for sessions with a
//     local subscriber, a keeper goroutine refresh the TTL too. An expired session is gone:
//     the next append starts a new epoch at sequence 1.
//     A stream whose producer died keeps its keys until a watcher ends it or the TTL runs out.
//   - Errors from Redis wrap storage.ErrStoreUnavailable together with the original error; when
//     the caller's context has ended they wrap the context's error instead. Session ids are
//     checked with core.ValidSessionID before any I/O (core.ErrInvalidSessionID).
//
// # Live delivery
//
// Each Store has exactly one pub/sub connection. The first local Subscribe of a session
// subscribes its channel (and returns once Redis has confirmed it); the channel is
// unsubscribed when the last local subscriber cancels. Subscribe sends nothing but the
// SUBSCRIBE; on a cluster, records appended just before it can still arrive (the cluster bus
// forwards a PUBLISH after the script returned), and subscribers skip sequences they have.
// One goroutine reads the connection with a receive loop that never drops messages
// (go-redis's Channel, which drops messages when its reader stalls, is not used) and hands
// each message to one of several delivery workers (one per CPU, 2 to 16) chosen by its
// channel, which decodes it and calls the session's subscribers: each session's records,
// stream events and ephemeral messages in publish order, different sessions in parallel. A
// full worker queue (1,024) makes the reader wait; nothing is dropped. Pub/sub is
// at-most-once: when the connection fails, go-redis redials and resubscribes, and the Store
// then sends storage.Notification{Resync: true} to every subscriber, which reads what it
// missed from the history (and the running streams, on the next gap in their deltas). A
// connection that stays silent for two Options.PingInterval periods in a row (a half-open
// TCP connection) is replaced, with the same Resync.
//
// # Redis Cluster
//
// A session's keys share one hash slot thanks to the {sessionID} hash tag, so the scripts
// work on a cluster; session ids cannot contain braces (core.ValidSessionID), and Options.Prefix
// must not either. Live delivery uses plain (not sharded) SUBSCRIBE and PUBLISH: a cluster
// forwards every PUBLISH to every node, so the Store's single pub/sub connection, on whichever
// node, receives all sessions' messages. Sharded pub/sub (SSUBSCRIBE) would keep the traffic on
// each slot's node but needs one connection per node and resubscription on resharding; at very
// large cluster sizes that trade-off may be worth revisiting.
//
// # Concurrency
//
// A Store is safe for concurrent use by any number of goroutines. Subscribers' functions run
// on the Store's delivery workers, one at a time per session, so they must return quickly
// (a slow one delays the other sessions of its worker) and must not call the Store; a cancel
// function waits for a running call and must not be called from inside one. Close stops the
// Store's goroutines (the reader, the delivery workers, the pipeline workers, a worker that
// sends SUBSCRIBE/UNSUBSCRIBE commands, and the TTL keeper) and waits for them; if Redis
// accepts connections but never answers, that can take up to the client's dial and read
// timeouts. Calls made after Close go to the client directly. Never pass user input as
// Options.Prefix: it becomes part of key names.
//
// # Upgrading
//
// Instances that share a Redis must read each other's data. This version writes a stream
// entry as one field (r); versions before it wrote six and cannot read the new entries (a
// replay served by an old instance would show their messages empty). When upgrading from
// such a version, do not let old and new instances serve clients at once: replace them
// together, or drain the old ones (core.Hub.Drain) before the new ones take traffic. The
// new version reads the old entries, so no data needs converting.
package redisstore
