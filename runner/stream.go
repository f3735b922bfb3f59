package runner

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"io"
	"net/http"
)

// InvokeWithResponseStream, POST
// /2021-11-15/functions/{name}/response-streaming-invocations: the
// runtime's response is passed to the caller as it arrives, in Lambda's
// event stream (application/vnd.amazon.eventstream): PayloadChunk events,
// then an InvokeComplete event with ErrorCode and ErrorDetails when the
// function failed (before or during the stream: the runtime's
// Lambda-Runtime-Function-Error-Type and base64 Error-Body trailers) and
// LogResult with X-Amz-Log-Type: Tail. A streamed response may be up to
// 20 MiB (Lambda's limit), Function.ResponseSizeTooLarge beyond.

// maxStreamBytes is the limit of a streamed response.
const maxStreamBytes = 20 << 20

func (r *Runner) handleInvokeStream(w http.ResponseWriter, req *http.Request) {
	name, in, ok := r.invokeRequest(w, req, maxSyncRequestBytes, "InvokeWithResponseStream operation")
	if !ok {
		return
	}
	flusher, _ := w.(http.Flusher)
	started := false
	begin := func() {
		if started {
			return
		}
		started = true
		h := w.Header()
		h["Content-Type"] = []string{"application/vnd.amazon.eventstream"}
		h["X-Amz-Executed-Version"] = []string{"$LATEST"}
		w.WriteHeader(http.StatusOK)
	}
	in.stream = func(chunk []byte) {
		begin()
		w.Write(eventMessage("PayloadChunk", "application/octet-stream", chunk))
		if flusher != nil {
			flusher.Flush()
		}
	}
	res, err := r.Invoke(req.Context(), name, in)
	if err != nil {
		if !started {
			writeInvokeError(w, err)
		}
		return
	}
	if !started {
		w.Header()["X-Amzn-Requestid"] = []string{res.RequestID}
		begin()
		if !res.streamed && res.FunctionError == "" && len(res.Payload) > 0 {
			w.Write(eventMessage("PayloadChunk", "application/octet-stream", res.Payload))
		}
	}
	complete := map[string]string{}
	if res.FunctionError != "" {
		complete["ErrorCode"], complete["ErrorDetails"] = res.ErrorType, string(res.Payload)
	}
	if in.Tail {
		complete["LogResult"] = base64.StdEncoding.EncodeToString(res.LogTail)
	}
	doc, _ := json.Marshal(complete)
	w.Write(eventMessage("InvokeComplete", "application/json", doc))
}

// eventMessage encodes one message of the AWS event stream: prelude
// (total and headers length, CRC), headers (:event-type, :content-type,
// :message-type), payload, message CRC.
func eventMessage(eventType, contentType string, payload []byte) []byte {
	var hdr bytes.Buffer
	for _, kv := range [][2]string{{":event-type", eventType}, {":content-type", contentType}, {":message-type", "event"}} {
		hdr.WriteByte(byte(len(kv[0])))
		hdr.WriteString(kv[0])
		hdr.WriteByte(7) // string
		binary.Write(&hdr, binary.BigEndian, uint16(len(kv[1])))
		hdr.WriteString(kv[1])
	}
	total := 12 + hdr.Len() + len(payload) + 4
	msg := make([]byte, 0, total)
	msg = binary.BigEndian.AppendUint32(msg, uint32(total))
	msg = binary.BigEndian.AppendUint32(msg, uint32(hdr.Len()))
	msg = binary.BigEndian.AppendUint32(msg, crc32.ChecksumIEEE(msg))
	msg = append(msg, hdr.Bytes()...)
	msg = append(msg, payload...)
	return binary.BigEndian.AppendUint32(msg, crc32.ChecksumIEEE(msg))
}

// readStreamed forwards a response body to the caller's stream as it
// arrives (up to maxStreamBytes) and keeps its first maxResponseBytes for
// the Result.
func readStreamed(body io.Reader, stream func([]byte)) (kept []byte, err error) {
	buf := make([]byte, 32<<10)
	total := 0
	for {
		n, rerr := body.Read(buf)
		if n > 0 {
			total += n
			if total > maxStreamBytes {
				io.Copy(io.Discard, body)
				return kept, errTooLarge
			}
			stream(buf[:n])
			if len(kept) < maxResponseBytes {
				kept = append(kept, buf[:min(n, maxResponseBytes-len(kept))]...)
			}
		}
		if rerr == io.EOF {
			return kept, nil
		}
		if rerr != nil {
			return kept, rerr
		}
	}
}

// trailerError returns the error a runtime reported in the trailers of a
// response (a failure during a streamed response): its type and payload
// (the Error-Body trailer, base64 as Lambda specifies, or raw).
func trailerError(tr http.Header) (string, []byte) {
	typ := tr.Get("Lambda-Runtime-Function-Error-Type")
	if typ == "" {
		return "", nil
	}
	raw := tr.Get("Lambda-Runtime-Function-Error-Body")
	p, err := base64.StdEncoding.DecodeString(raw)
	if err != nil || !json.Valid(p) {
		p = []byte(raw)
	}
	if len(p) == 0 {
		p = errorPayload("the function failed while streaming its response", typ)
	}
	return typ, p
}
