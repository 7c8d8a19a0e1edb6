package auth_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/echo-socketio/echo-socketio/auth"
	"github.com/echo-socketio/echo-socketio/internal/jwttest"
)

// FuzzVerify gives the HTTP verifier arbitrary Authorization headers, cookies and queries: it
// answers with claims or with a refusal of a known reason, never a panic, and accepts only
// tokens signed with the key.
func FuzzVerify(f *testing.F) {
	good := jwttest.Sign(f, jwt.SigningMethodHS256, jwttest.HMACKey, jwttest.Valid(24*time.Hour), nil)
	for _, seed := range []string{"", "Bearer ", "Bearer " + good, "bearer " + good[:len(good)-2], "Bearer a.b.c", "Bearer ....", "Basic dXNlcjpwYXNz"} {
		f.Add(seed, "jwt="+seed, "token="+seed)
	}
	v, err := auth.NewVerifier(auth.Config{SigningKey: jwttest.HMACKey, TokenLookup: "auth:token,header:Authorization:Bearer ,cookie:jwt,query:token"})
	if err != nil {
		f.Fatal(err)
	}
	reasons := []auth.Reason{auth.ReasonMissing, auth.ReasonMalformed, auth.ReasonExpired, auth.ReasonNotYetValid,
		auth.ReasonBadSignature, auth.ReasonWrongAudience, auth.ReasonWrongIssuer, auth.ReasonInvalidClaims}
	f.Fuzz(func(t *testing.T, authorization, cookie, query string) {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Authorization", authorization)
		r.Header.Set("Cookie", cookie)
		r.URL.RawQuery = query
		claims, refusal := v.Verify(r)
		switch {
		case refusal == nil && claims == nil:
			t.Fatal("neither claims nor a refusal")
		case refusal != nil && !slices.Contains(reasons, refusal.Reason):
			t.Fatalf("reason %q", refusal.Reason)
		case refusal == nil:
			if sub, _ := claims.GetSubject(); sub != "ada" {
				t.Fatalf("accepted claims %v", claims)
			}
		}
	})
}
