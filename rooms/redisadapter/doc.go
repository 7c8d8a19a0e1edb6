// Package redisadapter is a cluster adapter for Socket.IO servers that share a Redis server.
// It speaks the protocol of the Node packages @socket.io/redis-adapter 8.x (the classic
// pub/sub adapter) and @socket.io/redis-emitter 5.x, so Go and Node servers can serve one
// cluster, and an emitter in any Node process can reach the clients of a Go server.
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
// # Differences from the Node adapter
//
// The Redis sharded pub/sub mode of @socket.io/redis-adapter (createShardedAdapter, a
// different protocol) is not supported. Acknowledgements of a broadcast that come from
// another server carry one argument and no socket ID, because the Node adapter forwards only
// the first argument of each acknowledgement; binary values in them arrive as base64
// strings, as encoding/json reads a []byte.
package redisadapter
