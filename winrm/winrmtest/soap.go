package winrmtest

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/driftless-dev/driftless/internal/connkit"
)

// XML namespaces of WS-Management and WinRS.
const (
	nsSOAP    = "http://www.w3.org/2003/05/soap-envelope"
	nsAddr    = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
	nsWSMan   = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
	nsShell   = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
	nsFault   = "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"
	nsXfer    = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
	anonymous = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
)

// Actions of the requests the server implements, and of its answers.
const (
	actCreate  = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create"
	actDelete  = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete"
	actCommand = nsShell + "/Command"
	actReceive = nsShell + "/Receive"
	actSend    = nsShell + "/Send"
	actSignal  = nsShell + "/Signal"
	actFault   = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"

	stateDone    = nsShell + "/CommandState/Done"
	stateRunning = nsShell + "/CommandState/Running"

	// Signal codes.
	SignalTerminate = nsShell + "/signal/terminate"
	SignalCtrlC     = nsShell + "/signal/ctrl_c"
)

// Operation names, as recorded by Server.Operations and passed to
// Options.Stall.
const (
	OpCreate  = "Create"
	OpCommand = "Command"
	OpReceive = "Receive"
	OpSend    = "Send"
	OpSignal  = "Signal"
	OpDelete  = "Delete"
)

var opOfAction = map[string]string{
	actCreate: OpCreate, actDelete: OpDelete, actCommand: OpCommand,
	actReceive: OpReceive, actSend: OpSend, actSignal: OpSignal,
}

type option struct {
	Name  string `xml:"Name,attr"`
	Value string `xml:",chardata"`
}

// request is the part of a WS-Management request the server reads.
type request struct {
	XMLName xml.Name `xml:"http://www.w3.org/2003/05/soap-envelope Envelope"`
	Header  struct {
		Action           string `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing Action"`
		MessageID        string `xml:"http://schemas.xmlsoap.org/ws/2004/08/addressing MessageID"`
		ResourceURI      string `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd ResourceURI"`
		OperationTimeout string `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd OperationTimeout"`
		SelectorSet      struct {
			Selectors []option `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd Selector"`
		} `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd SelectorSet"`
		OptionSet struct {
			Options []option `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd Option"`
		} `xml:"http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd OptionSet"`
	} `xml:"http://www.w3.org/2003/05/soap-envelope Header"`
	Body struct {
		Shell *struct {
			InputStreams  string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell InputStreams"`
			OutputStreams string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell OutputStreams"`
		} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Shell"`
		CommandLine *struct {
			Command   string   `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Command"`
			Arguments []string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Arguments"`
		} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell CommandLine"`
		Receive *struct {
			DesiredStream struct {
				CommandID string `xml:"CommandId,attr"`
				Streams   string `xml:",chardata"`
			} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell DesiredStream"`
		} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Receive"`
		Send *struct {
			Streams []struct {
				Name      string `xml:"Name,attr"`
				CommandID string `xml:"CommandId,attr"`
				End       string `xml:"End,attr"`
				Data      string `xml:",chardata"`
			} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Stream"`
		} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Send"`
		Signal *struct {
			CommandID string `xml:"CommandId,attr"`
			Code      string `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Code"`
		} `xml:"http://schemas.microsoft.com/wbem/wsman/1/windows/shell Signal"`
	} `xml:"http://www.w3.org/2003/05/soap-envelope Body"`
}

func parseRequest(body []byte) (*request, error) {
	var r request
	if err := xml.Unmarshal(body, &r); err != nil {
		return nil, err
	}
	r.Header.Action = strings.TrimSpace(r.Header.Action)
	return &r, nil
}

func (r *request) selector(name string) string {
	for _, s := range r.Header.SelectorSet.Selectors {
		if s.Name == name {
			return strings.TrimSpace(s.Value)
		}
	}
	return ""
}

// operationTimeout parses the request's xs:duration OperationTimeout
// ("PT60S", "PT20.000S", "PT1M30S"); 0 when absent or unreadable.
func (r *request) operationTimeout() time.Duration {
	s := strings.TrimSpace(r.Header.OperationTimeout)
	if !strings.HasPrefix(s, "PT") {
		return 0
	}
	s = s[2:]
	var d time.Duration
	for s != "" {
		i := strings.IndexAny(s, "HMS")
		if i <= 0 {
			return 0
		}
		n, err := strconv.ParseFloat(s[:i], 64)
		if err != nil {
			return 0
		}
		unit := map[byte]time.Duration{'H': time.Hour, 'M': time.Minute, 'S': time.Second}[s[i]]
		d += time.Duration(n * float64(unit))
		s = s[i+1:]
	}
	return d
}

func xmlText(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// envelope is a response: its action, the message it answers, and the
// body's inner XML.
func envelope(action, relatesTo, body string) []byte {
	return fmt.Appendf(nil, `<s:Envelope xml:lang="en-US" xmlns:s="%s" xmlns:a="%s" xmlns:x="%s" xmlns:w="%s" xmlns:rsp="%s" xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd">`+
		`<s:Header><a:Action>%s</a:Action><a:MessageID>uuid:%s</a:MessageID><a:To>%s</a:To><a:RelatesTo>%s</a:RelatesTo></s:Header>`+
		`<s:Body>%s</s:Body></s:Envelope>`,
		nsSOAP, nsAddr, nsXfer, nsWSMan, nsShell,
		xmlText(action), connkit.NewUUID(), anonymous, xmlText(relatesTo), body)
}

// A fault is a SOAP fault with WS-Management details, as Windows sends
// them.
type fault struct {
	code, subcode string // "s:Sender", "w:InvalidSelectors"
	wsmanCode     string // "2150858843"
	reason        string
}

var (
	faultTimedOut = fault{
		code: "s:Receiver", subcode: "w:TimedOut", wsmanCode: "2150858793",
		reason: "The WS-Management service cannot complete the operation within the time specified in OperationTimeout.",
	}
	faultNoShell = fault{
		code: "s:Sender", subcode: "w:InvalidSelectors", wsmanCode: "2150858843",
		reason: "The request for the Windows Remote Shell with ShellId %s failed because the shell was not found on the server. Possible causes are: the specified ShellId is incorrect or the shell no longer exists on the server. Provide the correct ShellId or create a new shell and retry the operation.",
	}
	faultNoCommand = fault{
		code: "s:Sender", subcode: "w:InvalidParameter", wsmanCode: "2150858770",
		reason: "The WS-Management service cannot process the request because the CommandId %s is not valid for this shell.",
	}
	faultBadRequest = fault{
		code: "s:Sender", subcode: "w:SchemaValidationError", wsmanCode: "2150858817",
		reason: "The WS-Management service cannot process the request: %s",
	}
	faultUnsupported = fault{
		code: "s:Sender", subcode: "a:ActionNotSupported", wsmanCode: "2150858771",
		reason: "The action %s is not supported by the service.",
	}
)

func (f fault) with(arg string) fault {
	f.reason = fmt.Sprintf(f.reason, arg)
	return f
}

func (f fault) body() string {
	return fmt.Sprintf(`<s:Fault><s:Code><s:Value>%s</s:Value><s:Subcode><s:Value>%s</s:Value></s:Subcode></s:Code>`+
		`<s:Reason><s:Text xml:lang="en-US">%s </s:Text></s:Reason>`+
		`<s:Detail><f:WSManFault xmlns:f="%s" Code="%s" Machine="winrmtest"><f:Message>%s </f:Message></f:WSManFault></s:Detail></s:Fault>`,
		f.code, f.subcode, xmlText(f.reason), nsFault, f.wsmanCode, xmlText(f.reason))
}
