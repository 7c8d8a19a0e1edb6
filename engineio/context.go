package engineio

import (
	"context"
	"reflect"
)

// A session keeps the context of its handshake request for the values middlewares put there
// (Conn.Context, Conn.Request), without its cancellation. context.WithoutCancel would keep the
// whole chain under it, and with it net/http's two cancelable contexts of the request and of
// its connection and the connection's Done channel: about 300 bytes per session that nobody
// reads again. detachContext keeps the values and drops those.

// detachContext returns a context with the values of ctx that is never canceled. It walks the
// chain of ctx through the contexts made by package context (WithCancel, WithValue) and
// rebuilds the part above the lowest cancelable one with copies of its value contexts, so the
// result holds no cancelable context of that chain. It copies the value contexts as they are
// (their key and value untouched) and changes only their parent. A chain with a context of
// another kind (an application's own type, WithTimeout, WithoutCancel, ...) is kept under
// that context, behind context.WithoutCancel.
func detachContext(ctx context.Context) context.Context {
	var nodeBuf [8]reflect.Value // a request's chain is shorter: no allocation for the walk
	nodes := nodeBuf[:0]         // the contexts of the chain, from ctx down, as *context.xxxCtx
	lowest := -1                 // the index of the lowest cancelable one
	n := ctx
	for {
		t := reflect.TypeOf(n)
		if t == nil {
			return context.Background() // a nil parent: no values
		}
		kind := contextKind(t)
		if kind == "" {
			break
		}
		v := reflect.ValueOf(n)
		f := v.Elem().Field(0) // Context, the parent (see contextKind)
		if !f.CanInterface() {
			break
		}
		parent, ok := f.Interface().(context.Context)
		if !ok {
			break
		}
		nodes = append(nodes, v)
		if kind == "cancelCtx" {
			lowest = len(nodes) - 1
		}
		n = parent
	}
	// n is where the walk stopped: the root, or a context of another kind, kept as it is.
	clean := isRootContext(reflect.TypeOf(n))
	if lowest < 0 {
		if clean {
			return ctx // no cancelable context: nothing to drop
		}
		return context.WithoutCancel(ctx)
	}
	base := nodes[lowest].Elem().Field(0).Interface().(context.Context)
	if !clean {
		base = context.WithoutCancel(base)
	}
	for i := lowest - 1; i >= 0; i-- {
		if contextKind(nodes[i].Type()) != "valueCtx" {
			continue // a cancelable context above the lowest: dropped too
		}
		cp := reflect.New(nodes[i].Type().Elem())
		cp.Elem().Set(nodes[i].Elem())
		cp.Elem().Field(0).Set(reflect.ValueOf(&base).Elem())
		base = cp.Interface().(context.Context)
	}
	return base
}

// contextKind returns "cancelCtx" or "valueCtx" for the contexts made by context.WithCancel
// and context.WithValue, and "" for any other type, or when such a context does not have its
// parent as its first field, named Context (see parentFirst).
func contextKind(t reflect.Type) string {
	switch {
	case t == cancelCtxType && cancelCtxWalkable:
		return "cancelCtx"
	case t == valueCtxType && valueCtxWalkable:
		return "valueCtx"
	}
	return ""
}

// The types of the contexts that context.WithCancel and context.WithValue make, and whether
// detachContext can walk them, found once: they never change.
var (
	cancelCtxType = func() reflect.Type {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		return reflect.TypeOf(ctx)
	}()
	valueCtxType      = reflect.TypeOf(context.WithValue(context.Background(), ctxProbeKey{}, nil))
	cancelCtxWalkable = parentFirst(cancelCtxType)
	valueCtxWalkable  = parentFirst(valueCtxType)
)

type ctxProbeKey struct{}

// parentFirst reports whether t, a pointer to a struct of package context, holds the parent
// context in its first field, named Context, as detachContext expects.
func parentFirst(t reflect.Type) bool {
	if t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct || t.Elem().PkgPath() != "context" ||
		t.Elem().NumField() == 0 {
		return false
	}
	f := t.Elem().Field(0)
	return f.Name == "Context" && f.Type == contextType
}

var contextType = reflect.TypeFor[context.Context]()

// isRootContext reports whether t is the type of context.Background or context.TODO.
func isRootContext(t reflect.Type) bool {
	return t != nil && (t == backgroundCtxType || t == todoCtxType)
}

// The types of context.Background and context.TODO.
var (
	backgroundCtxType = reflect.TypeOf(context.Background())
	todoCtxType       = reflect.TypeOf(context.TODO())
)
