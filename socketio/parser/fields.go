package parser

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"sync"
	"unicode"
)

// field is a struct field as encoding/json marshals it.
type field struct {
	name      string
	key       []byte // the JSON member name followed by a colon
	index     []int
	typ       reflect.Type
	tagged    bool
	depth     int
	omitEmpty bool
	omitZero  bool
	quoted    bool // the ",string" option applies
}

var fieldCache sync.Map // reflect.Type -> []field

// structFields returns the fields encoding/json marshals for the struct
// type t, in order: exported fields and the promoted fields of embedded
// structs, named by their json tags, with the Go rules for fields of the
// same name at different depths.
func structFields(t reflect.Type) []field {
	if f, ok := fieldCache.Load(t); ok {
		return f.([]field)
	}
	f, _ := fieldCache.LoadOrStore(t, computeFields(t))
	return f.([]field)
}

type embedded struct {
	typ   reflect.Type
	index []int
}

func computeFields(t reflect.Type) []field {
	var all []field
	current := []embedded{{typ: t}}
	visited := map[reflect.Type]bool{}
	for depth := 0; len(current) > 0; depth++ {
		count := map[reflect.Type]int{}
		for _, s := range current {
			count[s.typ]++
		}
		var next []embedded
		for _, s := range current {
			if visited[s.typ] {
				continue
			}
			visited[s.typ] = true
			for i := 0; i < s.typ.NumField(); i++ {
				sf := s.typ.Field(i)
				if sf.Anonymous {
					ft := sf.Type
					if ft.Kind() == reflect.Pointer {
						ft = ft.Elem()
					}
					if !sf.IsExported() && ft.Kind() != reflect.Struct {
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, opts, _ := strings.Cut(tag, ",")
				if !validFieldName(name) {
					name = ""
				}
				index := append(slices.Clip(s.index), i)
				ft := sf.Type
				if ft.Name() == "" && ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if name == "" && sf.Anonymous && ft.Kind() == reflect.Struct {
					next = append(next, embedded{typ: ft, index: index})
					continue
				}
				f := field{
					name:   name,
					index:  index,
					typ:    sf.Type,
					tagged: name != "",
					depth:  depth,
				}
				if f.name == "" {
					f.name = sf.Name
				}
				for o := range strings.SplitSeq(opts, ",") {
					switch o {
					case "omitempty":
						f.omitEmpty = true
					case "omitzero":
						f.omitZero = true
					case "string":
						switch ft.Kind() {
						case reflect.Bool, reflect.String,
							reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
							reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
							reflect.Float32, reflect.Float64:
							f.quoted = true
						}
					}
				}
				key, _ := json.Marshal(f.name)
				f.key = append(key, ':')
				all = append(all, f)
				if count[s.typ] > 1 {
					// The same struct embedded twice at one depth: its
					// fields are ambiguous, so record them twice.
					all = append(all, f)
				}
			}
		}
		current = next
	}

	slices.SortStableFunc(all, func(a, b field) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		if a.depth != b.depth {
			return a.depth - b.depth
		}
		if a.tagged != b.tagged {
			if a.tagged {
				return -1
			}
			return 1
		}
		return slices.Compare(a.index, b.index)
	})
	var out []field
	for i := 0; i < len(all); {
		j := i + 1
		for j < len(all) && all[j].name == all[i].name {
			j++
		}
		group := all[i:j]
		i = j
		if len(group) == 1 {
			out = append(out, group[0])
			continue
		}
		// The shallowest field wins; at equal depth only a lone tagged
		// field does.
		if group[0].depth < group[1].depth || (group[0].tagged && !group[1].tagged) {
			out = append(out, group[0])
		}
	}
	slices.SortFunc(out, func(a, b field) int { return slices.Compare(a.index, b.index) })
	return out
}

// validFieldName reports whether encoding/json accepts name from a tag.
func validFieldName(name string) bool {
	if name == "" {
		return false
	}
	for _, c := range name {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case unicode.IsLetter(c), unicode.IsDigit(c):
		default:
			return false
		}
	}
	return true
}
