package parser_test

// badTexts are text frames the decoder must reject when they arrive on
// their own. They seed the fuzz corpus too.
var badTexts = []struct {
	name, in string
}{
	{"nok, unterminated array after an ack id", `442["some","data"`},
	{"nok, CONNECT with a string payload", `0/admin,"invalid"`},
	{"nok, CONNECT with an array payload", `0[]`},
	{"nok, DISCONNECT with a payload", `1/admin,{}`},
	{"nok, EVENT with an unterminated string", `2/admin,"invalid`},
	{"nok, EVENT with an object payload", `2/admin,{}`},
	{"nok, EVENT name is an object", `2[{"toString":"foo"}]`},
	{"nok, EVENT name is a boolean", `2[true,"foo"]`},
	{"nok, EVENT name is null", `2[null,"bar"]`},
	{"nok, EVENT reserved name connect", `2["connect"]`},
	{"nok, EVENT reserved name disconnect", `2["disconnect","123"]`},
	{"nok, EVENT reserved name escaped", `2["conn\u0065ct"]`},
	{"nok, EVENT reserved name newListener", `2["newListener"]`},
	{"nok, EVENT empty array", `2[]`},
	{"nok, EVENT without payload", `2`},
	{"nok, EVENT string payload", `2"foo"`},
	{"nok, EVENT trailing garbage", `2["a"]x`},
	{"nok, EVENT two arrays", `2["a"]["b"]`},
	{"nok, EVENT blank payload", `2   `},
	{"nok, ACK object payload", `3{}`},
	{"nok, ACK without payload", `31`},
	{"nok, CONNECT_ERROR not JSON", `4abc`},
	{"nok, CONNECT_ERROR number", `41`},
	{"nok, CONNECT_ERROR array", `4[]`},
	{"nok, CONNECT_ERROR without payload", `4`},
	{"nok, event payload is an object", `42{}`},
	{"nok, garbage before array", `42abc["a"]`},
	{"nok, unknown type 9", `999`},
	{"nok, unknown type 7", `7["a"]`},
	{"nok, unknown type letter", `a`},
	{"nok, empty frame", ``},
	{"nok, attachments missing", `5`},
	{"nok, attachments without dash", `51`},
	{"nok, attachments without dash then payload", `51["a"]`},
	{"nok, attachments not a number", `5a-`},
	{"nok, attachments fractional", `51.23-`},
	{"nok, attachments zero", `50-`},
	{"nok, attachments zero with payload", `50-["a",{"_placeholder":true,"num":0}]`},
	{"nok, attachments only dash", `5-["a"]`},
	{"nok, attachments over the maximum", `511-["a",{"_placeholder":true,"num":0}]`},
	{"nok, attachments huge", `599999999999999999999999999-["a"]`},
	{"nok, BINARY_ACK zero attachments", `60-[]`},
	{"nok, BINARY_EVENT reserved name", `51-["disconnecting",{"_placeholder":true,"num":0}]`},
	{"nok, BINARY_EVENT object payload", `51-{}`},
	{"nok, ack id overflows", `299999999999999999999999["a"]`},
	{"nok, ack id above MaxAckID", `29007199254740992["a"]`},
	{"nok, namespace not UTF-8", "2/\xff,[\"a\"]"},
	{"nok, namespace swallows payload", `2/admin["a"]`},
	{"nok, JSON too deep", "2[\"a\"," + deep(10001) + "]"},
}

// deep returns n nested JSON arrays.
func deep(n int) string {
	b := make([]byte, 0, 2*n)
	for range n {
		b = append(b, '[')
	}
	for range n {
		b = append(b, ']')
	}
	return string(b)
}

func init() {
	badTexts = append(badTexts, []struct{ name, in string }{
		{"nok, CONNECT with an ack id", `01{}`},
		{"nok, DISCONNECT with an ack id", `1/admin,1`},
		{"nok, CONNECT_ERROR with an ack id", `42"x"`},
		{"nok, ACK without ack id", `3["a"]`},
		{"nok, BINARY_ACK without ack id", `61-[{"_placeholder":true,"num":0}]`},
	}...)
}
