package admin

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

// ui holds the vendored build of the official Admin UI (@socket.io/admin-ui, ui/dist), with
// its licence. scripts/update-admin-ui.sh refreshes it.
//
//go:embed ui/dist ui/VERSION
var ui embed.FS

// UIVersion returns the version of the vendored @socket.io/admin-ui package.
func UIVersion() string {
	b, _ := ui.ReadFile("ui/VERSION") // embedded, so it is there
	return strings.TrimSpace(string(b))
}

// UIHandler serves the official Admin UI web app under prefix, such as "/admin-ui/", so that
// no external site is needed: a browser opens the prefix, and the UI's login form takes the
// server's URL, the "/admin" namespace and the credentials. A request for the prefix without
// its trailing slash is redirected to it. The UI loads its fonts and icons from public CDNs;
// without them it works, with plainer text and no icons.
func UIHandler(prefix string) http.Handler {
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	sub, _ := fs.Sub(ui, "ui/dist") // a constant, valid path
	files := http.StripPrefix(prefix, http.FileServerFS(sub))
	bare := strings.TrimSuffix(prefix, "/")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == bare {
			http.Redirect(w, r, prefix, http.StatusMovedPermanently)
			return
		}
		if !strings.HasPrefix(r.URL.Path, prefix) {
			http.NotFound(w, r)
			return
		}
		files.ServeHTTP(w, r)
	})
}
