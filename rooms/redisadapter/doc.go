// Package redisadapter is a cluster adapter for Socket.IO servers that share a Redis server.
// It speaks the protocols of the Node packages @socket.io/redis-adapter 8.x (New: the classic
// pub/sub adapter; NewSharded: the sharded pub/sub adapter, createShardedAdapter) and
// @socket.io/redis-emitter 5.x, so Go and Node servers can serve one cluster, and an emitter
// in any Node process can reach the clients of a Go server.
//
//	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
//	sio := socketio.NewServer(socketio.Options{
//		Adapter: redisadapter.New(rdb, redisadapter.Options{}),
//	})
//
// # Channels and messages
//
// With the default key "socket.io", the adapter of namespace nsp uses the channels
//
//	socket.io#<nsp>#               broadcasts to the whole namespace, or to several rooms
//	socket.io#<nsp>#<room>#        broadcasts to a single room
//	socket.io-request#<nsp>#       requests to every server
//	socket.io-response#<nsp>#      answers, shared
//	socket.io-response#<nsp>#<uid># answers for one server
//
// A broadcast is the MessagePack array [uid, packet, opts], where packet is
// {type, data, nsp} with binary values inside data as MessagePack binary (what notepack.io
// makes of a Node Buffer), and opts is {rooms, except, flags}. Requests and answers are JSON
// objects {uid, requestId, type, ...}, except the broadcast with acknowledgements (request
// type 7) and its acknowledgements (type 9), which are MessagePack because they carry
// packets. A message that starts with '{' is read as JSON, any other as MessagePack.
//
// The request types are those of the Node adapter: SOCKETS (0), ALL_ROOMS (1),
// REMOTE_JOIN (2), REMOTE_LEAVE (3), REMOTE_DISCONNECT (4), REMOTE_FETCH (5),
// SERVER_SIDE_EMIT (6), BROADCAST (7), BROADCAST_CLIENT_COUNT (8) and BROADCAST_ACK (9).
// The number of servers is the number of subscribers of the request channel
// (PUBSUB NUMSUB).
//
// # Connections and goroutines
//
// Each namespace's Adapter holds one pub/sub connection of its own, taken from the client
// given to New, and runs two goroutines until Close: a reader, which receives the messages
// of the subscription in order and handles them, and a publisher, which sends the queued
// messages in order, pipelining those that wait together. A broadcast with acknowledgements
// runs one more goroutine for its duration. Publishing goes through a bounded queue: Broadcast
// never waits for Redis, and a broadcast that finds the queue full reaches the local sockets
// only.
//
// # Failures
//
// When Redis goes away, go-redis reconnects the subscription and subscribes again; until
// then, broadcasts reach the local sockets only and requests fail. Messages published while
// a server is not subscribed are lost for it, as with Redis pub/sub in general. Errors that no
// caller sees (a lost connection, a failed publication, a malformed message) go to
// Options.OnError. A request that some servers do not answer within Options.RequestsTimeout
// fails with an error that wraps ErrTimeout; FetchSockets never returns a partial list.
//
// Messages read from Redis are checked before use: the MessagePack reader bounds every
// length by the bytes that remain, limits nesting, and rejects what it cannot read; malformed
// and foreign messages are dropped and reported.
//
// # Sharded pub/sub
//
// NewSharded is the counterpart of the Node adapter's createShardedAdapter, for Redis 7 and
// later: SSUBSCRIBE and SPUBLISH, and the cluster protocol of socket.io-adapter's
// ClusterAdapter. Messages are {uid, nsp, type, data}, in JSON, or in MessagePack when they
// carry binary values, on the channels
//
//	socket.io#<nsp>#         broadcasts and requests, heard by every server
//	socket.io#<nsp>#<uid>#   the answers to the requests of server uid
//	socket.io#<nsp>#<room>#  broadcasts to a single room (dynamic subscription modes)
//
// The message types are BROADCAST (3, with acknowledgements when data.requestId is set),
// SOCKETS_JOIN (4), SOCKETS_LEAVE (5), DISCONNECT_SOCKETS (6), FETCH_SOCKETS (7),
// FETCH_SOCKETS_RESPONSE (8), SERVER_SIDE_EMIT (9), SERVER_SIDE_EMIT_RESPONSE (10),
// BROADCAST_CLIENT_COUNT (11) and BROADCAST_ACK (12); the heartbeat types (1, 2, 13), which
// the sharded Node adapter does not send, are ignored. The number of servers is the number of
// subscribers of the namespace's channel (PUBSUB SHARDNUMSUB). ShardedOptions.SubscriptionMode
// chooses the channels, as the Node option subscriptionMode: SubscriptionStatic,
// SubscriptionDynamic (the default) or SubscriptionDynamicPrivate. Classic and sharded
// servers do not hear each other: a cluster uses one protocol.
//
// # Redis Streams
//
// The counterpart of the Node package @socket.io/redis-streams-adapter is package
// rooms/redisstreams. NewStreams, NewStreamsAdapter, StreamsOptions and StreamsAdapter
// forward to it for one minor version; they are deprecated.
//
// # Differences from the Node adapter
//
// Acknowledgements of a broadcast that come from another server carry one argument and no
// socket ID, because the Node adapter forwards only the first argument of each
// acknowledgement. Their binary values stay binary, and so do those of server-side emits and
// their answers: a request or answer that carries binary values is written in MessagePack
// (with the classic adapter too, where Node writes them in JSON; Node servers read both).
package redisadapter
