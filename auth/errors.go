package auth

import (
	"errors"

	"github.com/golang-jwt/jwt/v5"

	"github.com/echo-socketio/echo-socketio/socketio"
)

// Reason tells a client why its connection was refused. It is sent as data.reason of the
// connect_error.
type Reason string

// The reasons for a refusal.
const (
	// ReasonMissing: no token in any of the sources of TokenLookup.
	ReasonMissing Reason = "missing"
	// ReasonMalformed: the token is not a JWT (bad encoding, wrong number of parts, too long),
	// or a source holds something other than a string.
	ReasonMalformed Reason = "malformed"
	// ReasonExpired: the "exp" claim is in the past.
	ReasonExpired Reason = "expired"
	// ReasonNotYetValid: the "nbf" or "iat" claim is in the future.
	ReasonNotYetValid Reason = "not_yet_valid"
	// ReasonBadSignature: the signature does not verify, or its algorithm is not allowed
	// ("none", an HMAC token for an RSA key), or no key is known for it (an unknown kid).
	ReasonBadSignature Reason = "bad_signature"
	// ReasonWrongAudience: the "aud" claim is missing or names none of Config.Audience.
	ReasonWrongAudience Reason = "wrong_audience"
	// ReasonWrongIssuer: the "iss" claim is missing or is not Config.Issuer.
	ReasonWrongIssuer Reason = "wrong_issuer"
	// ReasonInvalidClaims: another claim is wrong, such as a missing "exp".
	ReasonInvalidClaims Reason = "invalid_claims"
	// ReasonForbidden: the token is valid but Config.Validate refused it.
	ReasonForbidden Reason = "forbidden"
)

// Message is the connect_error message of every refusal.
const Message = "unauthorized"

// Error is a refusal: the reason the client is told, and the detailed cause, for the
// server's logs only.
type Error struct {
	Reason Reason
	Err    error
}

// Error describes the refusal with its cause.
func (e *Error) Error() string {
	if e.Err == nil {
		return "auth: " + string(e.Reason)
	}
	return "auth: " + string(e.Reason) + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Code returns the code sent to the client: 403 for ReasonForbidden, 401 otherwise.
func (e *Error) Code() int {
	if e.Reason == ReasonForbidden {
		return 403
	}
	return 401
}

// Data is the connect_error data, and the argument of ExpiredEvent.
type Data struct {
	Code   int    `json:"code"`
	Reason Reason `json:"reason"`
}

// connectError is what the client receives: the message, the code and the reason, no cause.
func (e *Error) connectError() *socketio.ConnectError {
	return &socketio.ConnectError{Message: Message, Data: Data{Code: e.Code(), Reason: e.Reason}}
}

// classify turns an error of the jwt parser into a refusal. The signature is checked before
// the claims, so a forged token is never told apart by its claims.
func classify(err error, claims jwt.Claims, issuer bool, audience bool) *Error {
	reason := ReasonInvalidClaims
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		reason = ReasonMalformed
	case errors.Is(err, jwt.ErrTokenUnverifiable), errors.Is(err, jwt.ErrTokenSignatureInvalid):
		reason = ReasonBadSignature
	case errors.Is(err, jwt.ErrTokenExpired):
		reason = ReasonExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		reason = ReasonNotYetValid
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		reason = ReasonWrongIssuer
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		reason = ReasonWrongAudience
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing) && claims != nil:
		// The parser does not say which claim is missing: the issuer and the audience, when
		// they are required, are told apart.
		if iss, _ := claims.GetIssuer(); issuer && iss == "" {
			reason = ReasonWrongIssuer
		} else if aud, _ := claims.GetAudience(); audience && len(aud) == 0 {
			reason = ReasonWrongAudience
		}
	}
	return &Error{Reason: reason, Err: err}
}
