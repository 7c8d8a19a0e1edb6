// Package redisstreams is a cluster adapter for Socket.IO servers that share a Redis stream,
// wire-compatible with the Node package @socket.io/redis-streams-adapter 0.3, so Go and Node
// servers can serve one cluster and a client can recover its connection state on any of them.
//
//	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
//	sio := socketio.NewServer(socketio.Options{
//		ConnectionStateRecovery: &socketio.Recovery{},
//		Adapter:                 redisstreams.New(rdb, redisstreams.Options{Recovery: true}),
//	})
//
// # Protocol
//
// New is the counterpart of the Node package @socket.io/redis-streams-adapter 0.3: the
// cluster protocol of the sharded adapter, carried by one Redis stream (default
// "socket.io") rather than by channels. Broadcasts, SOCKETS_JOIN, SOCKETS_LEAVE and
// DISCONNECT_SOCKETS are entries of the stream (XADD with MAXLEN ~), with the fields uid,
// nsp, type (decimal text) and data: JSON text, or the base64 text of the MessagePack data
// when it carries binary values. Every server reads the stream from its end with XREAD
// BLOCK, in batches. The requests that wait for answers (FETCH_SOCKETS, SERVER_SIDE_EMIT, a
// BROADCAST with acknowledgements) go, in MessagePack, on the channel socket.io#<nsp>#, and
// the answers on socket.io#<nsp>#<uid>#; the number of servers is the number of subscribers
// of the first (PUBSUB NUMSUB).
//
// Because the stream keeps the broadcasts, connection state recovery works across servers
// (Options.Recovery): a broadcast's offset is the ID of its entry, the session of a
// socket that lost its connection is kept under sio:session:<pid> (base64 MessagePack
// {sid, pid, rooms, data}, expiring after MaxDisconnectionDuration), and any server, Go or
// Node, restores it with the broadcasts read from the stream after the client's offset.
// The broadcasts that come while a socket recovers are held back for it and delivered when
// it joins its rooms, so that it gets each once, in the order of the stream. A session can
// be restored only while the stream still holds the client's last entry (MaxLen).
//
// Acknowledgements of a broadcast that come from another server carry one argument and no
// socket ID, because the Node adapter forwards only the first argument of each
// acknowledgement.
package redisstreams
