// Package clientbundle serves the official Socket.IO browser client, the way
// the serveClient option of the Node.js socket.io server does.
//
// The package embeds the unmodified dist files of the socket.io-client npm
// package (the plain, minified, ESM and msgpack bundles and their source
// maps), together with the package's LICENSE and a VERSION file. The files
// are refreshed with scripts/update-client-bundle.sh and never edited by
// hand.
//
// A [Handler] answers GET and HEAD requests for those files. It sends a
// strong ETag derived from the file's content and the client version,
// answers a matching If-None-Match with 304 Not Modified, and sends a
// Cache-Control header whose max-age is [DefaultMaxAge] unless
// [Options.MaxAge] says otherwise. When the request's Accept-Encoding allows
// it, the handler sends a brotli or gzip variant, each with its own ETag, and
// it always sends Vary: Accept-Encoding. Each compressed variant is produced
// once per Handler (gzip at its best level, brotli at quality 9), the first
// time a client asks for it; later requests reuse the stored bytes. The first
// compression of the largest file takes some tens of milliseconds, which only
// the first request for that variant waits for.
//
// A Socket.IO server mounted at a path such as /socket.io/ strips that prefix
// and hands requests whose remaining path is one of [Handler.Names] to the
// handler, either with [Handler.ServeFile] or, after [http.StripPrefix], with
// [Handler.ServeHTTP]. The handler does not compress anything else, so
// response compression middleware should skip these paths.
package clientbundle
