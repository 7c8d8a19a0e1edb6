package redisstreams

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"github.com/echo-socketio/echo-socketio/rooms/internal/rediscluster"
	"strconv"

	"github.com/echo-socketio/echo-socketio/rooms"
	"github.com/echo-socketio/echo-socketio/socketio/sockets"
	"github.com/vmihailenco/msgpack/v5"
)

// The stream entries of the streams adapter are flat: the fields uid, nsp, type (the message
// type as a decimal string) and data, the message's data either as JSON text (which starts
// with '{') or as the base64 text of its MessagePack form (when it carries binary values).
// Pub/sub messages are the whole message {uid, nsp, type, data} in MessagePack.

// entryValues returns the fields of the stream entry of a message of type typ; data is its
// encoded data part, MessagePack when isMsgpack, JSON otherwise, or nil for none.
func entryValues(uid, nsp string, typ int, data []byte, isMsgpack bool) []any {
	v := []any{"uid", uid, "nsp", nsp, "type", strconv.Itoa(typ)}
	if data != nil {
		if isMsgpack {
			v = append(v, "data", base64.StdEncoding.EncodeToString(data))
		} else {
			v = append(v, "data", string(data))
		}
	}
	return v
}

// decodeEntry reads the fields of a stream entry; a data field larger than maxSize is
// rejected.
func decodeEntry(values map[string]any, maxSize int) (*rediscluster.ClusterMsg, error) {
	uid, _ := values["uid"].(string)
	nsp, ok := values["nsp"].(string)
	if !ok {
		return nil, rediscluster.Malformed("stream entry without a namespace")
	}
	ts, _ := values["type"].(string)
	typ, err := strconv.Atoi(ts)
	if err != nil || typ < 0 || typ > 255 {
		return nil, rediscluster.Malformed("stream entry type %q", ts)
	}
	data, _ := values["data"].(string)
	if len(data) > maxSize {
		return nil, rediscluster.Malformed("stream entry of %d bytes, more than MaxMessageSize", len(data))
	}
	if data == "" {
		return rediscluster.DecodeCluster(rediscluster.WrapCluster(uid, nsp, typ, nil, false))
	}
	if data[0] == '{' {
		return rediscluster.DecodeCluster(rediscluster.WrapCluster(uid, nsp, typ, []byte(data), false))
	}
	mp, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return nil, rediscluster.Malformed("stream entry data: %v", err)
	}
	return rediscluster.DecodeCluster(rediscluster.WrapCluster(uid, nsp, typ, mp, true))
}

// jsonDataToMsgpack returns the JSON value data in MessagePack.
func jsonDataToMsgpack(data []byte) ([]byte, error) {
	var buf bytes.Buffer
	if err := rediscluster.JSONToMsgpack(msgpack.NewEncoder(&buf), data, nil); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// encodeSession returns a recovery session as the Node adapter stores it: the base64 text of
// the MessagePack map {sid, pid, rooms, data}.
func encodeSession(s *sockets.Session) (string, error) {
	data := s.Data
	if data == nil {
		data = map[string]any{}
	}
	jd, err := json.Marshal(data)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	e := msgpack.NewEncoder(&buf)
	_ = e.EncodeMapLen(4)
	_ = e.EncodeString("sid")
	_ = e.EncodeString(string(s.SID))
	_ = e.EncodeString("pid")
	_ = e.EncodeString(s.PID)
	_ = e.EncodeString("rooms")
	_ = e.EncodeArrayLen(len(s.Rooms))
	for _, r := range s.Rooms {
		_ = e.EncodeString(string(r))
	}
	_ = e.EncodeString("data")
	if err := rediscluster.JSONToMsgpack(e, jd, nil); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// decodeSession reads a session stored by encodeSession or by a Node server. Data that is not
// an object (a Node server may keep any value in socket.data) is dropped; binary values in it
// become base64 strings.
func decodeSession(text string) (sockets.Session, error) {
	var s sockets.Session
	b, err := base64.StdEncoding.DecodeString(text)
	if err != nil {
		return s, rediscluster.Malformed("session: %v", err)
	}
	m := rediscluster.NewMPReader(b)
	err = m.Fields(func(k string) (err error) {
		switch k {
		case "sid":
			var sid string
			sid, err = m.Str()
			s.SID = rooms.SocketID(sid)
		case "pid":
			s.PID, err = m.Str()
		case "rooms":
			var rs []string
			rs, err = m.StrList()
			s.Rooms = rediscluster.ToRooms(rs)
		case "data":
			var jd []byte
			if jd, err = m.JSON(nil, nil, 0); err == nil && len(jd) > 0 && jd[0] == '{' {
				err = json.Unmarshal(jd, &s.Data)
			}
		default:
			err = m.Skip()
		}
		return err
	})
	if err != nil {
		return sockets.Session{}, rediscluster.Malformed("session: %v", err)
	}
	if s.SID == "" || s.PID == "" {
		return sockets.Session{}, rediscluster.Malformed("session without sid or pid")
	}
	return s, nil
}
