package engineio

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// applyCORS checks the request's Origin and sets the CORS headers of allowed cross-origin
// requests. It reports whether the request may go on: requests without an Origin header (from
// non-browser clients) and same-origin requests always may.
func (s *Server) applyCORS(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	cors := &s.opts.CORS
	allowed, wildcard := false, false
	for _, o := range cors.Origins {
		if o == "*" {
			allowed, wildcard = true, true
			break
		}
		if strings.EqualFold(o, origin) {
			allowed = true
			break
		}
	}
	if !allowed {
		if sameOrigin(origin, r.Host) || s.opts.InsecureSkipOriginCheck {
			return true
		}
		return false
	}
	h := w.Header()
	if wildcard && !cors.Credentials {
		h.Set("Access-Control-Allow-Origin", "*")
	} else {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Add("Vary", "Origin")
	}
	if cors.Credentials {
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	if r.Method == http.MethodOptions {
		h.Set("Access-Control-Allow-Methods", "GET,HEAD,PUT,PATCH,POST,DELETE")
		if len(cors.AllowedHeaders) > 0 {
			h.Set("Access-Control-Allow-Headers", strings.Join(cors.AllowedHeaders, ","))
		} else if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
			h.Set("Access-Control-Allow-Headers", req)
			h.Add("Vary", "Access-Control-Request-Headers")
		}
		if cors.MaxAge > 0 {
			h.Set("Access-Control-Max-Age", strconv.Itoa(int(cors.MaxAge.Seconds())))
		}
	}
	return true
}

// sameOrigin reports whether origin names the host the request was sent to.
func sameOrigin(origin, host string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	return strings.EqualFold(u.Host, host)
}
