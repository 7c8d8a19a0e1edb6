package redisstreams

// DecodeSession lets the external tests read a session as a server stores it.
var DecodeSession = decodeSession
