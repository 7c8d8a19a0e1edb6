package auth

import (
	"errors"
	"fmt"

	"github.com/golang-jwt/jwt/v5"

	"github.com/echo-socketio/echo-socketio/socketio"
)

// verifier finds and verifies tokens for one Config, for sockets and HTTP requests alike.
type verifier struct {
	config  Config
	lookups []source
	parser  *jwt.Parser
	keyFunc jwt.Keyfunc
}

// handle is the namespace middleware.
func (v *verifier) handle(s *socketio.Socket) error {
	claims, err := v.check(s, fromSocket(s))
	if err != nil {
		return err.connectError()
	}
	s.Set(ClaimsKey, claims)
	if v.config.DisconnectOnExpiry {
		if exp, _ := claims.GetExpirationTime(); exp != nil {
			watchExpiry(s, exp.Add(v.config.Leeway))
		}
	}
	return nil
}

// check verifies the token of h and runs Config.Validate, then reports a refusal to
// Config.OnRefused. s is nil for an HTTP request.
func (v *verifier) check(s *socketio.Socket, h credentials) (jwt.Claims, *Error) {
	claims, err := v.verify(h)
	if err == nil && v.config.Validate != nil {
		if verr := v.config.Validate(s, claims); verr != nil {
			err = &Error{Reason: ReasonForbidden, Err: verr}
		}
	}
	if err != nil {
		if v.config.OnRefused != nil {
			v.config.OnRefused(s, err)
		}
		return nil, err
	}
	return claims, nil
}

// verify finds the token of h and verifies it.
func (v *verifier) verify(h credentials) (jwt.Claims, *Error) {
	raw, found, err := find(h, v.lookups)
	switch {
	case err != nil:
		return nil, &Error{Reason: ReasonMalformed, Err: err}
	case !found:
		return nil, &Error{Reason: ReasonMissing}
	case len(raw) > v.config.MaxTokenLength:
		return nil, &Error{Reason: ReasonMalformed, Err: fmt.Errorf("auth: token of %d bytes, more than %d", len(raw), v.config.MaxTokenLength)}
	}
	claims := v.config.NewClaims()
	token, err := v.parser.ParseWithClaims(raw, claims, v.keyFunc)
	if err != nil {
		return nil, classify(err, claims, v.config.Issuer != "", len(v.config.Audience) > 0)
	}
	if !token.Valid {
		return nil, &Error{Reason: ReasonBadSignature, Err: errors.New("auth: token not valid")}
	}
	return token.Claims, nil
}
