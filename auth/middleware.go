package auth

import (
	"errors"
	"fmt"

	"github.com/golang-jwt/jwt/v5"

	"github.com/echo-socketio/echo-socketio/socketio"
)

type middleware struct {
	config  Config
	lookups []source
	parser  *jwt.Parser
	keyFunc jwt.Keyfunc
}

func (m *middleware) handle(s *socketio.Socket) error {
	claims, err := m.authenticate(s)
	if err != nil {
		if m.config.OnRefused != nil {
			m.config.OnRefused(s, err)
		}
		return err.connectError()
	}
	s.Set(ClaimsKey, claims)
	if m.config.DisconnectOnExpiry {
		if exp, _ := claims.GetExpirationTime(); exp != nil {
			watchExpiry(s, exp.Add(m.config.Leeway))
		}
	}
	return nil
}

func (m *middleware) authenticate(s *socketio.Socket) (jwt.Claims, *Error) {
	raw, found, err := find(s, m.lookups)
	switch {
	case err != nil:
		return nil, &Error{Reason: ReasonMalformed, Err: err}
	case !found:
		return nil, &Error{Reason: ReasonMissing}
	case len(raw) > m.config.MaxTokenLength:
		return nil, &Error{Reason: ReasonMalformed, Err: fmt.Errorf("auth: token of %d bytes, more than %d", len(raw), m.config.MaxTokenLength)}
	}
	claims := m.config.NewClaims()
	token, err := m.parser.ParseWithClaims(raw, claims, m.keyFunc)
	if err != nil {
		return nil, classify(err, claims, m.config.Issuer != "", len(m.config.Audience) > 0)
	}
	if !token.Valid {
		return nil, &Error{Reason: ReasonBadSignature, Err: errors.New("auth: token not valid")}
	}
	if m.config.Validate != nil {
		if err := m.config.Validate(s, token.Claims); err != nil {
			return nil, &Error{Reason: ReasonForbidden, Err: err}
		}
	}
	return token.Claims, nil
}
