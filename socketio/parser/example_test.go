package parser_test

import (
	"encoding/json"
	"fmt"

	"github.com/echo-socketio/echo-socketio/socketio/parser"
)

func ExampleDecoder() {
	var d parser.Decoder // one per connection
	frames := []struct {
		binary bool
		data   []byte
	}{
		{false, []byte(`2/chat,7["message","hello"]`)},
		{false, []byte(`51-["upload",{"name":"a.txt","data":{"_placeholder":true,"num":0}}]`)},
		{true, []byte("hi")},
	}
	for _, f := range frames {
		var (
			p        *parser.Packet
			complete bool
			err      error
		)
		if f.binary {
			p, complete, err = d.DecodeBinary(f.data)
		} else {
			p, complete, err = d.DecodeText(f.data)
		}
		if err != nil {
			fmt.Println("close the connection:", err)
			return
		}
		if !complete {
			continue // a binary packet waits for its attachments
		}
		data := p.Data
		if p.Type.IsBinary() {
			if data, err = parser.Reconstruct(p.Data, p.Attachments); err != nil {
				fmt.Println("close the connection:", err)
				return
			}
		}
		args, _ := parser.SplitArray(data, nil)
		name, _ := parser.EventName(data)
		fmt.Printf("%s %s id=%d/%v event=%s args=%s\n", p.Type, p.Namespace, p.ID, p.HasID, name, args[1:])
		if name == "upload" {
			var file struct {
				Name string `json:"name"`
				Data []byte `json:"data"`
			}
			_ = json.Unmarshal(args[1], &file)
			fmt.Printf("%s: %q\n", file.Name, file.Data)
		}
	}
	// Output:
	// EVENT /chat id=7/true event=message args=["hello"]
	// BINARY_EVENT / id=0/false event=upload args=[{"name":"a.txt","data":"aGk="}]
	// a.txt: "hi"
}

func ExampleAppendPacket() {
	buf := []byte{'4'} // the Engine.IO "message" type, followed by the packet
	buf, err := parser.AppendPacket(buf, &parser.Packet{
		Type:      parser.Ack,
		Namespace: "/admin",
		ID:        13,
		HasID:     true,
		Data:      json.RawMessage(`["bar"]`),
	})
	fmt.Println(string(buf), err)
	// Output: 43/admin,13["bar"] <nil>
}
