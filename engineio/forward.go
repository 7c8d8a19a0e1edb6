package engineio

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"
)

// Forwarding lets every server of a cluster take any Engine.IO request, so that the load
// balancer in front of the cluster needs no sticky sessions. Each server has a node ID, which
// starts the IDs of the sessions it opens (<node>.<random>). A server that receives a polling
// request or a websocket upgrade for a session of another node hands it to that node over
// the node's internal address, as a reverse proxy; the client sees no difference. Every
// server of the cluster must have Forwarding, with the same peers.
//
// The forwarded request carries the header ForwardedHeader, and a server never forwards a
// request that has it: a session that its node no longer knows is answered "Session ID
// unknown", as on a single server, and the client reconnects.
type Forwarding struct {
	// NodeID names this server in the cluster: 1 to 32 letters, digits, '-' or '_'.
	NodeID string
	// Peers maps the node IDs of the cluster to their internal base URLs
	// (http://10.0.0.2:8080, say), to which a forwarded request's path and query are
	// appended. The other nodes must reach the address directly, without the load balancer.
	// This server's own entry, if any, is ignored.
	Peers map[string]string
	// Transport carries the forwarded requests. Default: an http.Transport that dials in 5 s
	// and keeps up to 256 idle connections to each peer.
	Transport http.RoundTripper
}

// ForwardedHeader marks a request forwarded by another server of the cluster; its value is the
// forwarding server's node ID.
const ForwardedHeader = "X-Engineio-Forwarded-By"

// forwarder is the Forwarding of a server, with a reverse proxy per peer.
type forwarder struct {
	node    string
	proxies map[string]*httputil.ReverseProxy
}

func validNodeID(id string) bool {
	if id == "" || len(id) > 32 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// newForwarder checks f and builds the proxies of its peers.
func newForwarder(f *Forwarding) (*forwarder, error) {
	if !validNodeID(f.NodeID) {
		return nil, fmt.Errorf("engineio: forwarding: invalid node ID %q (1 to 32 of [A-Za-z0-9_-])", f.NodeID)
	}
	rt := f.Transport
	if rt == nil {
		rt = &http.Transport{
			Proxy:                 nil,
			DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:          1024,
			MaxIdleConnsPerHost:   256,
			IdleConnTimeout:       90 * time.Second,
			ExpectContinueTimeout: time.Second,
		}
	}
	fw := &forwarder{node: f.NodeID, proxies: map[string]*httputil.ReverseProxy{}}
	for id, addr := range f.Peers {
		if id == f.NodeID {
			continue
		}
		if !validNodeID(id) {
			return nil, fmt.Errorf("engineio: forwarding: invalid peer node ID %q", id)
		}
		target, err := url.Parse(addr)
		if err != nil || (target.Scheme != "http" && target.Scheme != "https") || target.Host == "" {
			return nil, fmt.Errorf("engineio: forwarding: peer %s: invalid address %q", id, addr)
		}
		fw.proxies[id] = &httputil.ReverseProxy{
			Rewrite: func(pr *httputil.ProxyRequest) {
				pr.SetURL(target)
				pr.Out.Host = pr.In.Host
				pr.SetXForwarded()
				pr.Out.Header.Set(ForwardedHeader, f.NodeID)
			},
			Transport: rt,
			ErrorHandler: func(w http.ResponseWriter, r *http.Request, _ error) {
				// The owner is gone: the session is, for the client, unknown.
				refuse(w, r, ErrUnknownSID)
			},
		}
	}
	return fw, nil
}

// sessionID returns a new session ID of this node.
func (f *forwarder) sessionID() string { return f.node + "." + newSessionID() }

// forward hands r to the node of its session when that is another node, and reports whether
// it did.
func (f *forwarder) forward(w http.ResponseWriter, r *http.Request) bool {
	sid := r.URL.Query().Get("sid")
	node, _, ok := strings.Cut(sid, ".")
	if !ok || node == f.node || r.Header.Get(ForwardedHeader) != "" {
		return false
	}
	p := f.proxies[node]
	if p == nil {
		return false
	}
	p.ServeHTTP(w, r)
	return true
}
